"""The feed reads (decision 0029), built as sqlglot trees like every lakehouse read (decision 0015): one
builder per read, rendered for DuckDB or Trino by ``aurum.lakehouse.engines``.

Licensing is a condition like any other: ``providers`` / ``isos`` are the ones the caller may read (an empty
tuple matches nothing), applied before any ranking or window so a row the caller may not see never shapes
an answer. The Iceberg row filter only prunes files; the SQL repeats every predicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import reduce
from typing import Any, cast

from pyiceberg.expressions import (
    AlwaysFalse,
    And,
    BooleanExpression,
    EqualTo,
    GreaterThanOrEqual,
    In,
    LessThanOrEqual,
)
from sqlglot import exp

from aurum.lakehouse.feed_tables import (
    DROUGHT_INDEX,
    DROUGHT_INDEX_ARROW,
    DROUGHT_USDM,
    DROUGHT_USDM_ARROW,
    ISO_LMP,
    ISO_LMP_ARROW,
    SERIES_OBSERVATION,
    SERIES_OBSERVATION_ARROW,
)
from aurum.lakehouse.sql import (
    LakehouseQuery,
    ScanSpec,
    ascending,
    column,
    descending,
    literal,
    one_of,
    paged,
)

SCAN = "obs"
SERIES_COLUMNS: tuple[str, ...] = tuple(SERIES_OBSERVATION_ARROW.names)
LMP_COLUMNS: tuple[str, ...] = tuple(ISO_LMP_ARROW.names)
USDM_COLUMNS: tuple[str, ...] = tuple(DROUGHT_USDM_ARROW.names)
INDEX_COLUMNS: tuple[str, ...] = tuple(DROUGHT_INDEX_ARROW.names)
AGGREGATE_COLUMNS = (
    "iso_code",
    "market",
    "interval_start",
    "location_id",
    "currency",
    "uom",
    "price_avg",
    "price_min",
    "price_max",
    "price_stddev",
    "sample_count",
)
BUCKETS = ("hour", "day")


def timestamp(value: datetime) -> exp.Expression:
    """A UTC timestamp literal (an aware datetime; naive ones are refused rather than guessed)."""
    if value.tzinfo is None:
        raise ValueError("timestamps in a feed read must carry a zone")
    text = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
    return exp.cast(exp.Literal.string(text), exp.DataType.Type.TIMESTAMPTZ)


def _prune(kind: Any, name: str, value: Any) -> BooleanExpression:
    return cast(BooleanExpression, cast(Any, kind)(name, value))


@dataclass(frozen=True)
class Conditions:
    """SQL predicates and the pruning filter that mirrors them (coarser is fine, never narrower)."""

    sql: list[exp.Expression] = field(default_factory=list)
    prune: list[BooleanExpression] = field(default_factory=list)

    def licensed(self, name: str, values: Sequence[str]) -> Conditions:
        self.sql.append(one_of(name, values))
        self.prune.append(_prune(In, name, tuple(values)) if values else AlwaysFalse())
        return self

    def equal(self, name: str, value: str | None, *, prunable: bool = True) -> Conditions:
        if value is not None:
            self.sql.append(column(name).eq(literal(value)))
            if prunable:
                self.prune.append(_prune(EqualTo, name, value))
        return self

    def since(self, name: str, value: datetime | date | None) -> Conditions:
        if value is not None:
            is_ts = isinstance(value, datetime)
            self.sql.append(column(name) >= (timestamp(value) if is_ts else literal(value)))  # type: ignore[arg-type]
            self.prune.append(_prune(GreaterThanOrEqual, name, value.isoformat()))
        return self

    def until(self, name: str, value: datetime | date | None) -> Conditions:
        if value is not None:
            is_ts = isinstance(value, datetime)
            self.sql.append(column(name) <= (timestamp(value) if is_ts else literal(value)))  # type: ignore[arg-type]
            self.prune.append(_prune(LessThanOrEqual, name, value.isoformat()))
        return self

    def scan(self, table: str) -> ScanSpec:
        if not self.prune:
            return ScanSpec(table=table, alias=SCAN)
        return ScanSpec(table=table, alias=SCAN, row_filter=reduce(And, self.prune))

    def where(self) -> exp.Expression:
        return cast(exp.Expression, exp.and_(*self.sql)) if self.sql else exp.true()


def _select(
    table: str,
    columns: Sequence[str],
    where: Conditions,
    order: Sequence[str],
    *,
    limit: int | None,
    offset: int = 0,
    desc: bool = False,
) -> LakehouseQuery:
    first = descending if desc else ascending  # newest first: the leading column only
    select = (
        exp.select(*(column(name) for name in columns))
        .from_(exp.table_(SCAN))
        .where(where.where())
        .order_by(first(exp.column(order[0])), *(ascending(exp.column(name)) for name in order[1:]))
    )
    return LakehouseQuery(expression=paged(select, limit, offset), scans=(where.scan(table),))


# --- series observations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesFilters:
    providers: tuple[str, ...]  # licensed providers (EIA, FRED, NOAA…): always applied
    provider: str | None = None
    dataset: str | None = None
    series_id: str | None = None
    frequency: str | None = None
    area: str | None = None
    sector: str | None = None
    unit: str | None = None
    canonical_unit: str | None = None
    canonical_currency: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    with_value: bool = False  # leave out observations without a value (FRED's ".")

    def conditions(self) -> Conditions:
        where = Conditions().licensed("provider", self.providers)
        if self.with_value:
            where.sql.append(column("value").is_(exp.null()).not_())
        where.equal("provider", self.provider).equal("dataset", self.dataset).equal(
            "series_id", self.series_id
        )
        for name in ("frequency", "area", "sector", "unit", "canonical_unit", "canonical_currency"):
            where.equal(name, getattr(self, name), prunable=False)
        return where.since("ts", self.start).until("ts", self.end)


def series_observations(filters: SeriesFilters, *, limit: int | None, offset: int = 0) -> LakehouseQuery:
    """Observations ordered by (series_id, ts): a series' history oldest first."""
    return _select(
        SERIES_OBSERVATION,
        SERIES_COLUMNS,
        filters.conditions(),
        ("series_id", "ts", "provider"),
        limit=limit,
        offset=offset,
    )


SERIES_DIMENSIONS = ("dataset", "area", "sector", "unit", "canonical_unit", "canonical_currency", "frequency")


def series_dimensions(filters: SeriesFilters) -> LakehouseQuery:
    """``(dimension, value)`` for each distinct non-empty value of ``SERIES_DIMENSIONS`` among the rows."""
    where = filters.conditions()
    parts = [
        exp.select(exp.alias_(literal(name), "dimension"), exp.alias_(column(name), "value"))
        .distinct()
        .from_(exp.table_(SCAN))
        .where(exp.and_(where.where(), column(name).is_(exp.null()).not_(), column(name).neq(literal(""))))
        for name in SERIES_DIMENSIONS
    ]
    union: exp.Query = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=False)
    select = (
        exp.select("dimension", "value")
        .from_(union.subquery("dims"))
        .order_by(ascending(exp.column("dimension")), ascending(exp.column("value")))
    )
    return LakehouseQuery(expression=select, scans=(where.scan(SERIES_OBSERVATION),))


def series_counts(providers: Sequence[str], series_ids: Sequence[str]) -> LakehouseQuery:
    """Per (provider, series_id) of ``series_ids``: observations stored and the newest fetch."""
    where = Conditions().licensed("provider", tuple(providers))
    where.sql.append(one_of("series_id", series_ids))
    select = (
        exp.select(
            column("provider"),
            column("series_id"),
            exp.alias_(exp.Count(this=exp.Star()), "observations"),
            exp.alias_(exp.Max(this=column("fetched_at")), "last_fetched"),
        )
        .from_(exp.table_(SCAN))
        .where(where.where())
        .group_by(column("provider"), column("series_id"))
    )
    return LakehouseQuery(expression=select, scans=(where.scan(SERIES_OBSERVATION),))


# --- ISO LMP ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LmpFilters:
    isos: tuple[str, ...]  # licensed ISOs (CAISO, MISO…): always applied
    iso_code: str | None = None
    market: str | None = None
    location_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    def conditions(self) -> Conditions:
        where = Conditions().licensed("iso_code", self.isos).equal("iso_code", self.iso_code)
        where.equal("market", self.market, prunable=False).equal(
            "location_id", self.location_id, prunable=False
        )
        return where.since("interval_start", self.start).until("interval_start", self.end)


def _recent(where: Conditions, hours: int) -> exp.Expression:
    """``interval_start`` within ``hours`` of the newest interval the same filters select."""
    newest = exp.select(exp.Max(this=column("interval_start"))).from_(exp.table_(SCAN)).where(where.where())
    since = exp.Sub(
        this=newest.subquery(),
        expression=exp.Interval(this=exp.Literal.string(str(hours)), unit=exp.Var(this="HOUR")),
    )
    return column("interval_start") >= since


def lmp_recent(filters: LmpFilters, *, hours: int, limit: int, negative_only: bool = False) -> LakehouseQuery:
    """The intervals of the ``hours`` up to the newest stored one (optionally only prices below zero),
    newest first."""
    where = filters.conditions()
    recent = Conditions(sql=[*where.sql, _recent(where, hours)], prune=list(where.prune))
    if negative_only:
        recent.sql.append(column("price_total") < exp.Literal.number(0))
    return _select(
        ISO_LMP,
        LMP_COLUMNS,
        recent,
        ("interval_start", "iso_code", "market", "location_id"),
        limit=limit,
        desc=True,
    )


def lmp_points(filters: LmpFilters, *, limit: int, offset: int = 0) -> LakehouseQuery:
    """Intervals oldest first, by location (the v2 read)."""
    return _select(
        ISO_LMP,
        LMP_COLUMNS,
        filters.conditions(),
        ("interval_start", "iso_code", "market", "location_id"),
        limit=limit,
        offset=offset,
    )


def lmp_aggregate(filters: LmpFilters, *, bucket: str, limit: int, offset: int = 0) -> LakehouseQuery:
    """Per (iso, market, location, hour or day in UTC): average, minimum, maximum, sample standard
    deviation and count of ``price_total``; oldest bucket first."""
    if bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {BUCKETS}")
    where = filters.conditions()
    utc = exp.AtTimeZone(this=column("interval_start"), zone=exp.Literal.string("UTC"))
    # A zone-less UTC timestamp on either engine: DuckDB's AT TIME ZONE drops the zone, Trino's keeps it.
    bucket_start = exp.cast(
        exp.DateTrunc(unit=exp.Literal.string(bucket), this=utc), exp.DataType.Type.TIMESTAMP
    )
    start = exp.alias_(bucket_start, "interval_start")
    keys = ("iso_code", "market", "location_id", "currency", "uom")
    price = column("price_total")
    select = (
        exp.select(
            column("iso_code"),
            column("market"),
            start,
            column("location_id"),
            column("currency"),
            column("uom"),
            exp.alias_(exp.Avg(this=price), "price_avg"),
            exp.alias_(exp.Min(this=price), "price_min"),
            exp.alias_(exp.Max(this=price), "price_max"),
            exp.alias_(exp.StddevSamp(this=price), "price_stddev"),
            exp.alias_(exp.Count(this=exp.Star()), "sample_count"),
        )
        .from_(exp.table_(SCAN))
        .where(where.where())
        .group_by(*(column(name) for name in keys), exp.Literal.number(3))
    )
    ordered = (
        exp.select(*(exp.column(name) for name in AGGREGATE_COLUMNS))
        .from_(select.subquery("buckets"))
        .order_by(
            *(ascending(exp.column(name)) for name in ("interval_start", "iso_code", "market", "location_id"))
        )
    )
    return LakehouseQuery(expression=paged(ordered, limit, offset), scans=(where.scan(ISO_LMP),))


# --- drought ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DroughtFilters:
    licensed: bool  # the caller's licence covers the drought feed
    region_type: str | None = None
    region_id: str | None = None
    start: date | None = None
    end: date | None = None
    dataset: str | None = None
    index: str | None = None
    timescale: str | None = None

    def conditions(self, *, with_index: bool) -> Conditions:
        where = Conditions() if self.licensed else Conditions(sql=[exp.false()], prune=[AlwaysFalse()])
        where.equal("region_type", self.region_type).equal("region_id", self.region_id, prunable=False)
        if with_index:
            where.equal("dataset", self.dataset).equal("index", self.index, prunable=False)
            where.equal("timescale", self.timescale, prunable=False)
        return where.since("valid_date", self.start).until("valid_date", self.end)


def drought_usdm(filters: DroughtFilters, *, limit: int, offset: int = 0) -> LakehouseQuery:
    """USDM area fractions, newest week first, by region."""
    return _select(
        DROUGHT_USDM,
        USDM_COLUMNS,
        filters.conditions(with_index=False),
        ("valid_date", "region_type", "region_id"),
        limit=limit,
        offset=offset,
        desc=True,
    )


def drought_indices(filters: DroughtFilters, *, limit: int, offset: int = 0) -> LakehouseQuery:
    """Index values, newest first, by series."""
    return _select(
        DROUGHT_INDEX,
        INDEX_COLUMNS,
        filters.conditions(with_index=True),
        ("valid_date", "series_id"),
        limit=limit,
        offset=offset,
        desc=True,
    )
