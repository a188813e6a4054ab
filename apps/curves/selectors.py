"""Reads of curves: the catalog (Postgres) and the points (Iceberg through the query engine).

Market data is licensed: a tenant sees a curve only if its plan or entitlements include the curve's dataset.
Anything else answers 404, never 403, so the existence of unlicensed curves is not revealed.
"""

import dataclasses
import functools
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from datetime import date
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.db.models.expressions import RawSQL
from pyiceberg.exceptions import NoSuchTableError

from apps.curves.models import Curve
from aurum.errors import InvalidInputError, NotFoundError
from aurum.lakehouse import queries
from aurum.lakehouse.engines import QueryResult, get_engine
from aurum.lakehouse.pointers import POINTER_SQL, pointer_args, pointers_read
from aurum.lakehouse.queries import CurveFilters
from aurum.lakehouse.sql import LakehouseQuery, LeanQuery
from aurum.lakehouse.tables import curve_latest_table, curve_observation_table, curve_tables_ensure
from aurum.lakehouse.versions import version_known
from aurum.orm import CompiledLookup
from aurum.process_cache import InvalidatedCache, iceberg_topic
from tenants.models import Tenant
from tenants.selectors import tenant_datasets

_DATASET_TTL_SECONDS = 300.0
_dataset_of: dict[str, tuple[str, float]] = {}


def curve_dataset_for_tenant(*, curve_key: str, datasets: frozenset[str]) -> str:
    """The curve's dataset if the tenant is licensed for it; 404 otherwise (also when unknown).

    The hot path of one-curve reads: a curve's dataset is remembered in the process for 5 minutes (it is
    fixed by the curve's identity in practice), which saves the catalog query on a cached read.
    """
    now = time.monotonic()
    known = _dataset_of.get(curve_key)
    if known is None or now - known[1] > _DATASET_TTL_SECONDS:
        dataset = Curve.objects.filter(curve_key=curve_key).values_list("dataset", flat=True).first()
        if dataset is None:
            raise NotFoundError("No such curve.")
        if len(_dataset_of) > 200_000:
            _dataset_of.clear()
        known = _dataset_of[curve_key] = (dataset, now)
    if known[0] not in datasets:
        raise NotFoundError("No such curve.")
    return known[0]


# One curve's catalog row, read by every one-curve request: SQL compiled once per thread (decision 0054).
_CURVE_BY_KEY: CompiledLookup[Curve] = CompiledLookup(
    lambda key: Curve.objects.filter(curve_key=key).order_by("pk")[:1], "\x00curve-key"
)


def curve_get_for_tenant(*, tenant: Tenant, curve_key: str, datasets: frozenset[str] | None = None) -> Curve:
    """The catalog entry, if the tenant is licensed for its dataset; 404 otherwise (also when unknown)."""
    licensed = tenant_datasets(tenant=tenant) if datasets is None else datasets
    curve = _CURVE_BY_KEY.first(curve_key)  # curve_key is unique
    if curve is None or curve.dataset not in licensed:
        raise NotFoundError("No such curve.")
    return curve


CATALOG_FILTERS: tuple[str, ...] = ("iso", "market", "location", "product", "block", "commodity", "dataset")


def curve_catalog_list(
    *, datasets: frozenset[str], search: str = "", filters: dict[str, str] | None = None
) -> QuerySet[Curve]:
    """Licensed catalog entries matching every word of ``search`` (in any of the identity fields or the key
    prefix) and the exact ``filters`` (``CATALOG_FILTERS``), ordered by location, product, block."""
    curves = Curve.objects.filter(dataset__in=datasets)
    for name, value in (filters or {}).items():
        if name not in CATALOG_FILTERS:
            raise InvalidInputError.field(name, f"Unknown filter '{name}'.")
        curves = curves.filter(**{name: value})
    for word in search.split()[:8]:
        match = Q(curve_key__startswith=word.lower())
        for name in _SEARCHED:
            match |= Q(**{f"{name}__icontains": word})
        curves = curves.filter(match)
    return curves.order_by("location", "product", "block", "curve_key")


_SEARCHED = ("location", "product", "market", "iso", "block", "commodity", "vendor", "region")


def curve_catalog_facets(*, datasets: frozenset[str]) -> dict[str, list[str]]:
    """Per catalog filter, the distinct non-empty values among the licensed curves (one query)."""
    rows = Curve.objects.filter(dataset__in=datasets).values_list(*CATALOG_FILTERS).distinct()
    values: dict[str, set[str]] = {name: set() for name in CATALOG_FILTERS}
    for row in rows:
        for name, value in zip(CATALOG_FILTERS, row, strict=True):
            if value:
                values[name].add(value)
    return {name: sorted(found, key=str.casefold) for name, found in values.items()}


def curve_dataset_summaries(*, datasets: frozenset[str]) -> dict[str, dict[str, Any]]:
    """Per licensed dataset with curves: its number of curves and its latest as-of (one query)."""
    rows = (
        Curve.objects.filter(dataset__in=datasets)
        .values("dataset")
        .annotate(curves=Count("id"), last_asof=Max("last_asof"))
        .order_by("dataset")
    )
    return {row["dataset"]: {"curves": row["curves"], "last_asof": row["last_asof"]} for row in rows}


def curve_vintage_points(*, curve: Curve, dates: tuple[date, ...]) -> dict[date, list[dict[str, Any]]]:
    """Every point of ``curve`` in each of the vintages ``dates`` (one read), by as-of date."""
    filters = CurveFilters(datasets=(curve.dataset,), curve_keys=(curve.curve_key,))
    by_day: dict[date, list[dict[str, Any]]] = {day: [] for day in dates}
    for row in _run(queries.curves_on, filters, tuple(sorted(set(dates)))).table.to_pylist():
        by_day.setdefault(row["asof_date"], []).append(row)
    return by_day


def curve_point_read(*, curve: Curve, tenor_label: str, asof: date) -> QueryResult:
    """One published point of a curve (every column, lineage included) on ``asof``; no row if none."""
    return _run(queries.curve_point, curve.dataset, curve.curve_key, tenor_label, asof)


# --- curve points through the query engine ----------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _built(build: Callable[..., LakehouseQuery], args: tuple[Any, ...]) -> LakehouseQuery:
    """Build a query once per (builder, arguments) and keep its rendering for the configured engine, not
    its tree (``LeanQuery``): sqlglot building and generation cost ~5 ms, as much as running a one-curve read
    (measured, docs/performance.md), and a kept tree weighs several times what its renderings do."""
    return LeanQuery(functools.partial(build, *args), get_engine().name)


def _run(build: Callable[..., LakehouseQuery], *args: Any) -> QueryResult:
    """Run a built query on the configured engine (``AURUM_QUERY_ENGINE``); a warehouse in which nothing was
    ingested yet has no tables, and reads as empty rather than failing; one written by an older Aurum gains
    its new columns first (null in its old rows)."""
    engine = get_engine()
    query = _built(build, args)
    curve_tables_ensure()
    try:
        return engine.query(query)
    except NoSuchTableError:
        curve_observation_table()
        curve_latest_table()
        return engine.query(query)


def _points_query(
    filters: CurveFilters, asof: date | None, as_known_at: date | None
) -> tuple[Callable[..., LakehouseQuery], tuple[Any, ...]]:
    if asof is not None and as_known_at is not None:
        raise ValueError("asof and as_known_at are exclusive")
    if asof is not None:
        return queries.curves_asof, (filters, asof)
    if as_known_at is not None:
        return queries.curves_as_known_at, (filters, as_known_at)
    return queries.curves_latest_materialised, (filters,)


def curve_points(
    *, filters: CurveFilters, asof: date | None = None, as_known_at: date | None = None
) -> QueryResult:
    """Observations in keyset order: the ``asof`` vintage, the latest vintage on or before ``as_known_at``,
    or (neither given) the latest row per (curve_key, tenor_label). ``filters.datasets`` must be the
    caller's entitled datasets."""
    build, args = _points_query(filters, asof, as_known_at)
    return _run(build, *args)


# One curve's catalog row with the current pointer of the table its points are read from, in one statement
# (a one-curve read's two Postgres round trips before its DuckDB query made one; issue 14).
_CURVE_WITH_POINTER: CompiledLookup[Curve] = CompiledLookup(
    lambda key, catalog, namespace, name: (
        Curve.objects.filter(curve_key=key)
        .annotate(table_pointer=RawSQL(POINTER_SQL, (catalog, namespace, name)))
        .order_by("pk")[:1]
    ),
    "\x00curve-key",
    "\x00catalog",
    "\x00namespace",
    "\x00table",
)


# The catalog row (with its table's pointer) of the curves this web process reads, while it listens for the
# notifications that empty it when the catalog or the table changes (decision 0075): a one-curve read asks
# Postgres nothing but its token then. Each entry is a Curve of ~2.8 KB (measured): at most 5,000, ~14 MB.
_CURVE_ROWS: InvalidatedCache[tuple[str, tuple[str, str, str] | None, tuple[int | None, ...]], Curve] = (
    InvalidatedCache("curve rows", topics={"curves"}, max_entries=5_000)
)


def _curve_row(curve_key: str, pointer: tuple[str, str, str] | None, datasets: Iterable[str]) -> Curve | None:
    """The curve's catalog row, with ``table_pointer`` (the table's current pointer) where ``pointer``
    names the table: from this process's cache, else from Postgres (then kept, unless either changed since
    the cache's ticket was taken). A read whose answer the read cache stores under ``datasets``' versions
    takes only a row kept under the same versions. Shared between requests: read it, never change it."""
    key = (curve_key, pointer, tuple(version_known(d) for d in sorted(datasets)))
    curve = _CURVE_ROWS.get(key)
    if curve is not None:
        return curve
    if pointer is not None:
        _CURVE_ROWS.topic_add(iceberg_topic(*pointer))  # before the ticket: its commits count from here
    ticket = _CURVE_ROWS.ticket()
    curve = (
        _CURVE_BY_KEY.first(curve_key) if pointer is None else _CURVE_WITH_POINTER.first(curve_key, *pointer)
    )
    if curve is not None:
        _CURVE_ROWS.put(key, curve, ticket)
    return curve


def curve_with_points(
    *,
    curve_key: str,
    datasets: frozenset[str],
    filters: CurveFilters,
    asof: date | None = None,
    as_known_at: date | None = None,
) -> tuple[Curve, QueryResult]:
    """One curve's catalog entry (NotFoundError unless one of ``datasets``) and its points, as
    ``curve_points`` reads them with ``filters`` (which name this curve). The pointer of the table the points
    come from is read in the catalog entry's statement where the engine can take it."""
    build, args = _points_query(filters, asof, as_known_at)
    (table, *others) = {scan.table for scan in _built(build, args).scans}
    pointer = None if others else pointer_args(table)
    curve = _curve_row(curve_key, pointer, filters.datasets)
    if curve is None or curve.dataset not in datasets or curve.dataset not in filters.datasets:
        raise NotFoundError("No such curve.")
    with pointers_read({table: curve.table_pointer}) if pointer is not None else nullcontext():  # type: ignore[attr-defined]
        return curve, _run(build, *args)


def curve_points_latest_from_vintages(*, filters: CurveFilters) -> QueryResult:
    """The latest rows computed from every vintage (the slow path ``curve_points`` avoids); for checks."""
    return _run(queries.curves_latest, filters)


def curve_strip_points(*, filters: CurveFilters, strip_type: str, asof: date | None = None) -> QueryResult:
    return curve_points(filters=queries.strip_filters(filters, strip_type), asof=asof)


def curve_diff_points(*, filters: CurveFilters, asof_a: date, asof_b: date) -> QueryResult:
    return _run(queries.curves_diff, filters, asof_a, asof_b)


def curve_movers(
    *, filters: CurveFilters, asof_a: date, asof_b: date, top: int, by: str = "abs"
) -> QueryResult:
    return _run(queries.curves_movers, filters, asof_a, asof_b, top, by)


def curve_tenor_history(*, curve: Curve, tenor_label: str, datasets: frozenset[str]) -> QueryResult:
    return _run(queries.curve_history, curve.curve_key, tenor_label, tuple(sorted(datasets)))


def curve_range_points(*, filters: CurveFilters, start: date, end: date) -> QueryResult:
    """Every vintage from ``start`` to ``end`` (inclusive), one row per (curve, tenor, as-of)."""
    return _run(queries.curves_between, filters, start, end)


def curve_export_points(
    *,
    filters: CurveFilters,
    max_rows: int,
    asof: date | None = None,
    as_known_at: date | None = None,
    start: date | None = None,
    end: date | None = None,
) -> QueryResult:
    """The rows of an export: every vintage from ``start`` to ``end`` when both are given, else as
    ``curve_points``. More than ``max_rows`` rows is a 400 (narrow the filters or the range) rather than a
    file nobody can open."""
    capped = dataclasses.replace(filters, limit=max_rows + 1, offset=0)
    if start is not None and end is not None:
        result = curve_range_points(filters=capped, start=start, end=end)
    else:
        result = curve_points(filters=capped, asof=asof, as_known_at=as_known_at)
    if result.table.num_rows > max_rows:
        raise InvalidInputError.field(
            None,
            f"The export exceeds {max_rows:,} rows; narrow the filters or the range.",
            code="export_too_large",
        )
    return result


def curve_dimension_values(
    *,
    filters: CurveFilters,
    asof: date | None = None,
    prefix: str | None = None,
    per_dim_limit: int | None = None,
) -> dict[str, list[tuple[str, int]]]:
    """Per dimension, its values (sorted) with the number of curves having each, among the curves the
    filters select (entitlement included). ``prefix`` keeps values starting with it (case-insensitive)."""
    result = _run(queries.curve_dimensions, filters, asof).table
    values: dict[str, list[tuple[str, int]]] = {name: [] for name in queries.FILTER_COLUMNS}
    needle = prefix.casefold() if prefix else None
    for dimension, value, curves in zip(
        result.column("dimension").to_pylist(),
        result.column("value").to_pylist(),
        result.column("curves").to_pylist(),
        strict=True,
    ):
        if needle is not None and not str(value).casefold().startswith(needle):
            continue
        bucket = values[dimension]
        if per_dim_limit is None or len(bucket) < per_dim_limit:
            bucket.append((str(value), int(curves)))
    return values


def curve_catalog_for_keys(*, tenant: Tenant, curve_keys: list[str]) -> dict[str, Curve]:
    """The catalog entries of ``curve_keys`` the tenant is licensed for (others left out), in one query."""
    curves = Curve.objects.filter(curve_key__in=curve_keys, dataset__in=tenant_datasets(tenant=tenant))
    return {curve.curve_key: curve for curve in curves}


def curve_catalog_power(*, tenant: Tenant, limit: int) -> list[Curve]:
    """The licensed power curves with monthly-style blocks (BASE, PEAK, OFFPEAK), by location and product: the
    curves a PPA is usually valued against (the portal offers them as suggestions)."""
    curves = Curve.objects.filter(
        dataset__in=tenant_datasets(tenant=tenant), block__in=("BASE", "PEAK", "OFFPEAK")
    )
    return list(curves.order_by("location", "product", "block", "curve_key")[:limit])
