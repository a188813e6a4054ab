"""The original contract's fundamentals paths (``/api/v1`` and ``/v1``): ISO LMP, EIA catalog and series,
external series, drought. Bodies validate against openapi-spec-v1.yaml (tests/feeds). Market data is
licensed per provider (decision 0029): what the tenant's licence lacks is filtered out, or 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.http import HttpResponseBase
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.feeds.api import schema
from apps.feeds.api import serializers as s
from apps.feeds.api.respond import FeedView, as_csv, licensed_datasets, whole
from apps.feeds.selectors import (
    eia_dataset_get,
    eia_dataset_list,
    iso_providers,
    lmp_aggregate_rows,
    lmp_recent_rows,
    provider_list,
    series_dimension_values,
    series_get,
    series_list,
    series_observation_counts,
    series_observation_rows,
    series_providers,
)
from aurum.api.conditional import cached_response
from aurum.api.openapi import v1_page_parameters
from aurum.api.paging import v1_page_request
from aurum.api.responses import object_response, v1_list_response
from aurum.lakehouse.feed_queries import LmpFilters, SeriesFilters


def _lmp(
    request: Request,
    read: Callable[[LmpFilters, int], list[dict[str, Any]]],
    *,
    default: int,
    ranged: bool,
    shape: Callable[[dict[str, Any]], dict[str, Any]],
    filename: str,
) -> HttpResponseBase:
    query = s.validated(s.LmpRangeQuery if ranged else s.LmpQuery, request)
    filters = LmpFilters(
        isos=iso_providers(licensed_datasets(request)),
        iso_code=query.get("iso_code"),
        market=query.get("market"),
        location_id=query.get("location_id"),
        start=s.utc(query.get("start")),
        end=s.utc(query.get("end")),
    )
    rows = [shape(row) for row in read(filters, query.get("limit", default))]
    if query["format"] == "csv":
        return as_csv(request, rows, filename=filename, ttl=s.LMP_TTL)
    return whole(request, rows, ttl=s.LMP_TTL)


LMP_DOC = (
    " ISOs the tenant's licence covers (iso:caiso, iso:miso, iso:pjm, iso:ercot); the window is anchored at "
    "the newest interval stored for the filters (the original's views used the clock: the same rows while "
    "feeds are current)."
)


class LmpLast24hV1Api(FeedView):
    @extend_schema(
        operation_id="v1_iso_lmp_last_24h",
        parameters=[s.LmpQuery],
        responses=schema.V1_LMP,
        description="LMP intervals of the last 24 hours, newest first." + LMP_DOC,
    )
    def get(self, request: Request) -> HttpResponseBase:
        return _lmp(
            request,
            lambda f, n: lmp_recent_rows(f, hours=24, limit=n),
            default=500,
            ranged=False,
            shape=s.lmp_point,
            filename="iso_lmp_last_24h.csv",
        )


class LmpNegativeV1Api(FeedView):
    @extend_schema(
        operation_id="v1_iso_lmp_negative",
        parameters=[s.LmpQuery],
        responses=schema.V1_LMP,
        description="Negative LMPs of the last 7 days, newest first." + LMP_DOC,
    )
    def get(self, request: Request) -> HttpResponseBase:
        return _lmp(
            request,
            lambda f, n: lmp_recent_rows(f, hours=24 * 7, limit=n, negative_only=True),
            default=200,
            ranged=False,
            shape=s.lmp_point,
            filename="iso_lmp_negative.csv",
        )


class LmpHourlyV1Api(FeedView):
    @extend_schema(
        operation_id="v1_iso_lmp_hourly",
        parameters=[s.LmpRangeQuery],
        responses=schema.V1_LMP_AGGREGATE,
        description="Hourly (UTC) average, min, max, sample stddev and count of price_total per "
        "location, oldest first; start/end bound interval_start.",
    )
    def get(self, request: Request) -> HttpResponseBase:
        return _lmp(
            request,
            lambda f, n: lmp_aggregate_rows(f, bucket="hour", limit=n),
            default=500,
            ranged=True,
            shape=s.lmp_aggregate,
            filename="iso_lmp_hourly.csv",
        )


class LmpDailyV1Api(FeedView):
    @extend_schema(
        operation_id="v1_iso_lmp_daily",
        parameters=[s.LmpRangeQuery],
        responses=schema.V1_LMP_AGGREGATE,
        description="Daily (UTC) LMP statistics per location, oldest first.",
    )
    def get(self, request: Request) -> HttpResponseBase:
        return _lmp(
            request,
            lambda f, n: lmp_aggregate_rows(f, bucket="day", limit=n),
            default=500,
            ranged=True,
            shape=s.lmp_aggregate,
            filename="iso_lmp_daily.csv",
        )


class EiaDatasetListV1Api(FeedView):
    @extend_schema(
        operation_id="v1_metadata_eia_datasets_list",
        parameters=[s.PrefixQuery],
        responses=schema.V1_EIA_DATASETS,
        description="The EIA API v2 datasets (routes) of the catalog; prefix matches path or name.",
    )
    def get(self, request: Request) -> Response:
        query = s.validated(s.PrefixQuery, request)
        datasets = eia_dataset_list(prefix=query.get("prefix"))
        return whole(request, [s.eia_dataset_brief(d) for d in datasets], ttl=s.METADATA_TTL)


class EiaDatasetDetailV1Api(FeedView):
    @extend_schema(
        operation_id="v1_metadata_eia_datasets_retrieve",
        responses=schema.V1_EIA_DATASET,
        description="One EIA dataset with its frequencies, facets and data columns; 404 if unknown.",
    )
    def get(self, request: Request, dataset_path: str) -> Response:
        return object_response(
            request, s.eia_dataset_detail(eia_dataset_get(path=dataset_path)), ttl=s.METADATA_TTL
        )


def _eia_filters(request: Request, query: dict[str, Any]) -> SeriesFilters:
    providers = tuple(p for p in series_providers(licensed_datasets(request)) if p == "EIA")
    if query.get("source") and query["source"].upper() != "EIA":
        providers = ()
    names = (
        "series_id",
        "frequency",
        "area",
        "sector",
        "dataset",
        "unit",
        "canonical_unit",
        "canonical_currency",
    )
    return SeriesFilters(
        providers=providers,
        provider="EIA",
        start=s.utc(query.get("start")),
        end=s.utc(query.get("end")),
        **cast(dict[str, Any], {n: query.get(n) for n in names}),
    )


class EiaSeriesV1Api(FeedView):
    @extend_schema(
        operation_id="v1_ref_eia_series_list",
        parameters=[s.EiaSeriesRange, s.Format, *v1_page_parameters(200, 500)],
        responses=schema.V1_EIA_SERIES,
        description="EIA observations by series and period (needs feed:eia), cursor paging.",
    )
    def get(self, request: Request) -> HttpResponseBase:
        query = s.validated(s.EiaSeriesRange, request)
        fmt = s.validated(s.Format, request)["format"]
        bound = {k: str(v) for k, v in query.items()}
        page = v1_page_request(request, filters=bound, default=200, maximum=500)
        rows = series_observation_rows(_eia_filters(request, query), limit=page.limit + 1, offset=page.offset)
        data = [s.eia_point(row) for row in rows[: page.limit]]
        if fmt == "csv":
            return as_csv(request, data, filename="eia_series.csv", ttl=s.SERIES_TTL)
        return v1_list_response(
            request, data, page=page, has_more=len(rows) > page.limit, filters=bound, ttl=s.SERIES_TTL
        )


class EiaSeriesDimensionsV1Api(FeedView):
    @extend_schema(
        operation_id="v1_ref_eia_series_dimensions",
        parameters=[s.EiaSeriesQuery],
        responses=schema.V1_EIA_DIMENSIONS,
        description="Distinct dataset, area, sector, unit, canonical unit and currency, frequency "
        "and source of the EIA observations the filters select.",
    )
    def get(self, request: Request) -> Response:
        query = s.validated(s.EiaSeriesQuery, request)
        filters = _eia_filters(request, query)
        values = series_dimension_values(filters)
        values["source"] = ["EIA"] if filters.providers and values["dataset"] else []
        return object_response(request, values, ttl=s.DIMENSIONS_TTL)


def _page_meta_list(
    request: Request,
    items: Any,
    bound: dict[str, str],
    shape: Callable[[list[Any]], list[Any]],
    *,
    default: int,
    maximum: int,
    ttl: int,
) -> Response:
    page = v1_page_request(request, filters=bound, default=default, maximum=maximum)
    rows = list(items[page.offset : page.offset + page.limit + 1])
    return v1_list_response(
        request, shape(rows[: page.limit]), page=page, has_more=len(rows) > page.limit, filters=bound, ttl=ttl
    )


class ExternalProvidersV1Api(FeedView):
    @extend_schema(
        operation_id="v1_external_providers_list",
        parameters=v1_page_parameters(100, 1000),
        responses=schema.V1_PROVIDERS,
        description="Series providers the tenant's licence covers, with their series counts.",
    )
    def get(self, request: Request) -> Response:
        providers = provider_list(providers=series_providers(licensed_datasets(request)))
        return _page_meta_list(
            request, providers, {}, lambda rows: rows, default=100, maximum=1000, ttl=s.METADATA_TTL
        )


class ExternalSeriesV1Api(FeedView):
    @extend_schema(
        operation_id="v1_external_series_list",
        parameters=[s.ExternalSeriesQuery, *v1_page_parameters(100, 500)],
        responses=schema.V1_SERIES,
        description="Licensed series of the catalog by provider and id, with observation counts.",
    )
    def get(self, request: Request) -> Response:
        query = s.validated(s.ExternalSeriesQuery, request)
        providers = series_providers(licensed_datasets(request))
        items = series_list(
            providers=providers, provider=query.get("provider"), frequency=query.get("frequency")
        )

        def shape(rows: list[Any]) -> list[Any]:
            counts = series_observation_counts(providers=providers, series_ids=[r.series_id for r in rows])
            return [s.external_series(r, counts) for r in rows]

        return _page_meta_list(
            request,
            items,
            {k: str(v) for k, v in query.items()},
            shape,
            default=100,
            maximum=500,
            ttl=s.METADATA_TTL,
        )


class ExternalObservationsV1Api(FeedView):
    @extend_schema(
        operation_id="v1_external_series_observations",
        parameters=[s.ObservationsQuery, *v1_page_parameters(500, 500)],
        responses=schema.V1_OBSERVATIONS,
        description="One licensed series' observations, oldest first (missing values left out: "
        "the contract's value is a number); 404 for a series unknown or not licensed.",
    )
    def get(self, request: Request, series_id: str) -> HttpResponseBase:
        providers = series_providers(licensed_datasets(request))
        series = series_get(providers=providers, key=series_id)
        query = s.validated(s.ObservationsQuery, request)
        bound = {k: str(v) for k, v in query.items() if k != "format"}
        page = v1_page_request(request, filters=bound, default=500, maximum=500)
        filters = SeriesFilters(
            providers=(series.provider,),
            provider=series.provider,
            series_id=series.series_id,
            with_value=True,
            start=s.utc(query.get("start_date")),
            end=s.utc(query.get("end_date")),
        )
        rows = series_observation_rows(filters, limit=page.limit + 1, offset=page.offset)
        data = [s.observation(r, series.key) for r in rows[: page.limit]]
        if query["format"] == "csv":
            return as_csv(request, data, filename="observations.csv", ttl=s.SERIES_TTL)
        return v1_list_response(
            request, data, page=page, has_more=len(rows) > page.limit, filters=bound, ttl=s.SERIES_TTL
        )


class ExternalMetadataV1Api(FeedView):
    @extend_schema(
        operation_id="v1_metadata_external",
        parameters=[s.MetadataExternalQuery],
        responses=schema.V1_EXTERNAL_METADATA,
        description="Licensed providers, the number of series and the newest catalog update "
        "(a bare object, as the contract has it).",
    )
    def get(self, request: Request) -> Response:
        query = s.validated(s.MetadataExternalQuery, request)
        providers = provider_list(providers=series_providers(licensed_datasets(request)))
        if query.get("provider"):
            providers = [p for p in providers if p["id"] == query["provider"].upper()]
        updated = [p["last_updated"] for p in providers if p["last_updated"]]
        body = {
            "providers": providers
            if query.get("include_counts")
            else [{**p, "series_count": None} for p in providers],
            "total_series": sum(p["series_count"] for p in providers),
            "last_updated": max(updated) if updated else None,
        }
        return cached_response(request, body, ttl=s.METADATA_TTL)
