"""Reads of the feeds: the catalog (Postgres) and the observations (lakehouse), licensed per provider: a
provider the tenant's licence lacks is filtered out of lists and a series of it is 404 (decision 0029)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Max, QuerySet

from apps.feeds.datasets import ISO_PROVIDERS, LICENCES, PROVIDER_INFO, SERIES_PROVIDERS, licensed_providers
from apps.feeds.models import EiaDataset, FeedQuarantineRow, Series
from aurum.errors import NotFoundError
from aurum.lakehouse import feed_queries as q
from aurum.lakehouse.engines import get_engine
from aurum.lakehouse.feed_tables import feed_tables_ready
from aurum.lakehouse.sql import LakehouseQuery
from tenants.models import Tenant


def series_providers(datasets: frozenset[str]) -> tuple[str, ...]:
    return licensed_providers(datasets, SERIES_PROVIDERS)


def iso_providers(datasets: frozenset[str]) -> tuple[str, ...]:
    return licensed_providers(datasets, ISO_PROVIDERS)


def drought_licensed(datasets: frozenset[str]) -> bool:
    return LICENCES["USDM"] in datasets


def series_list(
    *, providers: tuple[str, ...], provider: str | None = None, frequency: str | None = None
) -> QuerySet[Series]:
    series = Series.objects.filter(provider__in=providers)
    if provider:
        series = series.filter(provider=provider.upper())
    if frequency:
        series = series.filter(frequency_code__iexact=frequency)
    return series.order_by("provider", "series_id")


def series_get(*, providers: tuple[str, ...], key: str) -> Series:
    """A series by ``PROVIDER:ID`` (or a bare id that only one licensed provider has); 404 when unknown or
    not licensed, without saying which."""
    provider, _, series_id = key.partition(":") if ":" in key else ("", "", key)
    found = Series.objects.filter(provider__in=providers, series_id=series_id)
    if provider:
        found = found.filter(provider=provider.upper())
    matches = list(found[:2])
    if len(matches) != 1:
        raise NotFoundError(f"No series {key}.")
    return matches[0]


def provider_list(*, providers: tuple[str, ...]) -> list[dict[str, Any]]:
    """The licensed series providers with their series count and newest catalog update (one query)."""
    stats: dict[str, dict[str, Any]] = {
        row["provider"]: dict(row)
        for row in Series.objects.filter(provider__in=providers)
        .values("provider")
        .annotate(series_count=Count("id"), last_updated=Max("updated_at"))
    }
    out = []
    for code in providers:
        name, description, base_url = PROVIDER_INFO[code]
        row = stats.get(code, {})
        out.append(
            {
                "id": code,
                "name": name,
                "description": description,
                "base_url": base_url,
                "last_updated": row.get("last_updated"),
                "series_count": row.get("series_count", 0),
            }
        )
    return out


def eia_dataset_list(*, prefix: str | None = None) -> QuerySet[EiaDataset]:
    datasets = EiaDataset.objects.order_by("path")
    if prefix:
        datasets = datasets.filter(path__startswith=prefix) | datasets.filter(name__startswith=prefix)
    return datasets


def eia_dataset_get(*, path: str) -> EiaDataset:
    found = EiaDataset.objects.filter(path=path.strip("/")).first()
    if found is None:
        raise NotFoundError(f"No EIA dataset {path}.")
    return found


# --- lakehouse reads -----------------------------------------------------------------------------------


def lake_rows(query: LakehouseQuery) -> list[dict[str, Any]]:
    feed_tables_ready()
    rows: list[dict[str, Any]] = get_engine().query(query).table.to_pylist()
    return rows


def series_observation_rows(filters: q.SeriesFilters, *, limit: int, offset: int = 0) -> list[dict[str, Any]]:
    return lake_rows(q.series_observations(filters, limit=limit, offset=offset))


def series_observation_counts(
    *, providers: tuple[str, ...], series_ids: list[str]
) -> dict[tuple[str, str], tuple[int, datetime | None]]:
    if not series_ids or not providers:
        return {}
    rows = lake_rows(q.series_counts(providers, series_ids))
    return {(r["provider"], r["series_id"]): (int(r["observations"]), r["last_fetched"]) for r in rows}


def series_dimension_values(filters: q.SeriesFilters) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {name: [] for name in q.SERIES_DIMENSIONS}
    for row in lake_rows(q.series_dimensions(filters)):
        found[row["dimension"]].append(row["value"])
    return found


def lmp_recent_rows(
    filters: q.LmpFilters, *, hours: int, limit: int, negative_only: bool = False
) -> list[dict[str, Any]]:
    return lake_rows(q.lmp_recent(filters, hours=hours, limit=limit, negative_only=negative_only))


def lmp_aggregate_rows(
    filters: q.LmpFilters, *, bucket: str, limit: int, offset: int = 0
) -> list[dict[str, Any]]:
    return lake_rows(q.lmp_aggregate(filters, bucket=bucket, limit=limit, offset=offset))


def lmp_point_rows(filters: q.LmpFilters, *, limit: int, offset: int = 0) -> list[dict[str, Any]]:
    return lake_rows(q.lmp_points(filters, limit=limit, offset=offset))


def drought_usdm_rows(filters: q.DroughtFilters, *, limit: int, offset: int = 0) -> list[dict[str, Any]]:
    return lake_rows(q.drought_usdm(filters, limit=limit, offset=offset))


def drought_index_rows(filters: q.DroughtFilters, *, limit: int, offset: int = 0) -> list[dict[str, Any]]:
    return lake_rows(q.drought_indices(filters, limit=limit, offset=offset))


def feed_quarantine_list(*, tenant: Tenant, status: str | None = None) -> QuerySet[FeedQuarantineRow]:
    """The held-back feed rows, oldest first: every one for an operator tenant, none for a customer."""
    rows = FeedQuarantineRow.objects.all() if tenant.is_operator else FeedQuarantineRow.objects.none()
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("id")


def feed_quarantine_get(*, tenant: Tenant, row_id: int) -> FeedQuarantineRow:
    found = feed_quarantine_list(tenant=tenant).filter(pk=row_id).first()
    if found is None:
        raise NotFoundError("No such quarantined row.")
    return found
