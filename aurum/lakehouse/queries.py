"""Every curve read, built once as a sqlglot expression and rendered for DuckDB or Trino.

A builder returns a ``CurveQuery``: the expression (which names the table by its scan alias, ``obs``), the
``ScanSpec`` the DuckDB engine registers under that alias with an Iceberg row filter for pruning, and no
bind parameters: filter values are inlined as sqlglot literals, which the generator quotes and escapes.
``render`` swaps the alias for the engine's table name (``iceberg.market.curve_observation`` in Trino).

The row filter only prunes files; the SQL repeats every predicate, so a coarse (or absent) filter never
changes a result. Entitlement (``dataset IN (...)``) and every dimension filter are applied *before* the
one-row-per-tenor ranking: a row the caller may not see can never hide, or stand in for, one they may.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
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

from aurum.lakehouse.engines import ScanSpec
from aurum.lakehouse.tables import CURVE_LATEST, CURVE_OBSERVATION, CURVE_OBSERVATION_ARROW

OBS = "obs"
TRINO_CATALOG = "iceberg"
CURVE_COLUMNS: tuple[str, ...] = tuple(CURVE_OBSERVATION_ARROW.names)
KEYSET_ORDER: tuple[str, ...] = ("curve_key", "tenor_label", "contract_month", "asof_date", "price_type")
DIMENSIONS: tuple[str, ...] = (
    "asset_class",
    "iso",
    "region",
    "location",
    "market",
    "product",
    "block",
    "tenor_type",
)
# Filterable beyond the original identity dimensions: attributes the catalog learnt (spec section 8).
FILTER_COLUMNS: tuple[str, ...] = (*DIMENSIONS, "commodity")
STRIP_TYPES = frozenset({"CALENDAR", "SEASON", "QUARTER"})
DIFF_COLUMNS: tuple[str, ...] = (
    "curve_key",
    "tenor_label",
    "tenor_type",
    "contract_month",
    "asof_a",
    "mid_a",
    "asof_b",
    "mid_b",
    "diff_abs",
    "diff_pct",
)
HISTORY_COLUMNS: tuple[str, ...] = (
    "curve_key",
    "tenor_label",
    "tenor_type",
    "contract_month",
    "asof_date",
    "mid",
    "bid",
    "ask",
    "currency",
    "per_unit",
    "dataset",
)
_RANK = "_rank"
_TENOR = ("curve_key", "tenor_label")


@dataclass(frozen=True)
class CurveFilters:
    """What a caller asked for. ``datasets`` are the caller's entitled datasets: always applied, and an
    empty tuple matches nothing."""

    datasets: tuple[str, ...]
    asset_class: str | None = None
    iso: str | None = None
    region: str | None = None
    location: str | None = None
    market: str | None = None
    product: str | None = None
    block: str | None = None
    tenor_type: str | None = None
    commodity: str | None = None
    curve_keys: tuple[str, ...] = ()
    limit: int | None = None
    offset: int = 0


@dataclass(frozen=True)
class CurveQuery:
    expression: exp.Select
    scans: list[ScanSpec]
    params: list[object] = field(default_factory=list)

    @property
    def row_filter(self) -> BooleanExpression | str:
        return self.scans[0].row_filter

    def sql(self, dialect: str, table_names: dict[str, str] | None = None) -> str:
        return render(self, dialect, table_names)


def default_table_names(query: CurveQuery, dialect: str) -> dict[str, str]:
    """The scan alias in DuckDB (the engine registers a view by that name); the catalog table in Trino."""
    if dialect == "trino":
        return {scan.alias: f"{TRINO_CATALOG}.{scan.table}" for scan in query.scans}
    return {scan.alias: scan.alias for scan in query.scans}


def render(query: CurveQuery, dialect: str, table_names: dict[str, str] | None = None) -> str:
    """The query's SQL in ``dialect``, with each scan alias replaced by ``table_names[alias]``."""
    names = default_table_names(query, dialect) if table_names is None else table_names

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and not node.args.get("db") and node.name in names:
            table = exp.to_table(names[node.name])
            table.set("alias", node.args.get("alias"))
            return table
        return node

    return query.expression.transform(swap).sql(dialect=dialect, identify=True)


# --- reads ---------------------------------------------------------------------------------------------


def curves_latest(filters: CurveFilters) -> CurveQuery:
    """Per (curve_key, tenor_label) the row with the greatest asof_date, then the greatest ``_ingest_ts``."""
    return _paged_read(filters, [], [])


def curves_latest_materialised(filters: CurveFilters) -> CurveQuery:
    """``curves_latest`` read from ``market.curve_latest``, which already holds one row per (curve_key,
    tenor_label), so without the ranking window: the same rows, in the same order (tested against
    ``curves_latest`` over the vintages)."""
    select = (
        exp.select(*(_col(name) for name in CURVE_COLUMNS))
        .from_(exp.to_table(OBS))
        .where(exp.and_(*_conditions(filters)))
        .order_by(*(_asc(exp.column(name)) for name in KEYSET_ORDER))
    )
    return _query(_limit(select, filters), filters, [], table=CURVE_LATEST)


def curves_asof(filters: CurveFilters, asof: date) -> CurveQuery:
    """The ``asof`` vintage exactly (a re-ingest of that day wins over the earlier load)."""
    return _paged_read(
        filters, [_col("asof_date").eq(_date(asof))], [_prune_eq("asof_date", asof.isoformat())]
    )


def curves_as_known_at(filters: CurveFilters, known_at: date) -> CurveQuery:
    """Per (curve_key, tenor_label) the latest vintage with asof_date on or before ``known_at``."""
    return _paged_read(
        filters,
        [_col("asof_date") <= _date(known_at)],
        [_prune_le("asof_date", known_at.isoformat())],
    )


def curves_between(filters: CurveFilters, start: date, end: date) -> CurveQuery:
    """Every vintage with ``start <= asof_date <= end``: one row per (curve_key, tenor_label, asof_date),
    the latest load of that day; ordered by curve_key, tenor_label, asof_date."""
    conditions = [*_conditions(filters), _col("asof_date") >= _date(start), _col("asof_date") <= _date(end)]
    ranked = _ranked(conditions, partition_by=(*_TENOR, "asof_date")).subquery("ranked")
    select = (
        exp.select(*(exp.column(name) for name in CURVE_COLUMNS))
        .from_(ranked)
        .where(exp.column(_RANK).eq(1))
        .order_by(
            *(_asc(exp.column(name)) for name in ("curve_key", "tenor_label", "asof_date", "price_type"))
        )
    )
    prune = [
        cast(BooleanExpression, cast(Any, GreaterThanOrEqual)("asof_date", start.isoformat())),
        _prune_le("asof_date", end.isoformat()),
    ]
    return _query(_limit(select, filters), filters, prune)


def strip_filters(filters: CurveFilters, strip_type: str) -> CurveFilters:
    """The filters of a strips read: strip rows (quoted or derived) are the rows of that tenor type."""
    if strip_type not in STRIP_TYPES:
        raise ValueError(f"strip_type must be one of {sorted(STRIP_TYPES)}, not {strip_type!r}")
    return dataclasses.replace(filters, tenor_type=strip_type)


def curves_diff(filters: CurveFilters, asof_a: date, asof_b: date) -> CurveQuery:
    """The two vintages inner-joined on (curve_key, tenor_label), with ``diff_abs = mid_b - mid_a`` and
    ``diff_pct = diff_abs / mid_a`` (a fraction; NULL when mid_a is 0 or NULL)."""
    select = _diff_select(filters, asof_a, asof_b)
    select = select.order_by(
        *(_asc(exp.column(name)) for name in ("curve_key", "tenor_label", "contract_month"))
    )
    return _query(
        _limit(select, filters), filters, [_prune_in("asof_date", (asof_a.isoformat(), asof_b.isoformat()))]
    )


MOVER_RANKINGS = ("abs", "pct")


def curves_movers(filters: CurveFilters, asof_a: date, asof_b: date, top: int, by: str = "abs") -> CurveQuery:
    """The ``top`` (curve, tenor) moves between two vintages, ranked by |diff_abs| (``by="abs"``) or by
    |diff_pct| (``by="pct"``); tenors without that measure are left out. ``filters.limit``/``offset`` do not
    apply."""
    top = int(top)
    if top < 1:
        raise ValueError("top must be positive")
    if by not in MOVER_RANKINGS:
        raise ValueError(f"by must be one of {MOVER_RANKINGS}")
    measure = "diff_abs" if by == "abs" else "diff_pct"
    moves = _diff_select(filters, asof_a, asof_b).subquery("moves")
    select = (
        exp.select(*(exp.column(name) for name in DIFF_COLUMNS))
        .from_(moves)
        .where(exp.column(measure).is_(exp.null()).not_())
        .order_by(
            exp.Ordered(this=exp.Abs(this=exp.column(measure)), desc=True, nulls_first=False),
            *(_asc(exp.column(name)) for name in ("curve_key", "tenor_label", "contract_month")),
        )
        .limit(top)
    )
    return _query(select, filters, [_prune_in("asof_date", (asof_a.isoformat(), asof_b.isoformat()))])


def curve_history(curve_key: str, tenor_label: str, datasets: Sequence[str]) -> CurveQuery:
    """One tenor's prices across vintages (one row per asof_date, the latest load of it), oldest first."""
    filters = CurveFilters(datasets=tuple(datasets), curve_keys=(curve_key,))
    conditions = [*_conditions(filters), _col("tenor_label").eq(exp.Literal.string(tenor_label))]
    ranked = _ranked(conditions, partition_by=("asof_date",)).subquery("ranked")
    select = (
        exp.select(*(exp.column(name) for name in HISTORY_COLUMNS))
        .from_(ranked)
        .where(exp.column(_RANK).eq(1))
        .order_by(_asc(exp.column("asof_date")))
    )
    return _query(select, filters, [_prune_eq("tenor_label", tenor_label)])


def curve_dimensions(filters: CurveFilters, asof: date | None = None) -> CurveQuery:
    """Per dimension (``DIMENSIONS`` plus commodity) each distinct value and the number of curves with it,
    among the rows ``filters`` (and ``asof``, when given) select: ``(dimension, value, curves)``."""
    conditions = _conditions(filters)
    prune: list[BooleanExpression] = []
    table = CURVE_LATEST  # every curve's latest rows: each curve once, one file per dataset
    if asof is not None:
        table = CURVE_OBSERVATION
        conditions.append(_col("asof_date").eq(_date(asof)))
        prune.append(_prune_eq("asof_date", asof.isoformat()))
    parts = [
        exp.select(
            exp.alias_(exp.Literal.string(name), "dimension"),
            exp.alias_(_col(name), "value"),
            exp.alias_(exp.Count(this=exp.Distinct(expressions=[_col("curve_key")])), "curves"),
        )
        .from_(exp.to_table(OBS))
        .where(
            exp.and_(*conditions, _col(name).is_(exp.null()).not_(), _col(name).neq(exp.Literal.string("")))
        )
        .group_by(_col(name))
        for name in FILTER_COLUMNS
    ]
    union: exp.Query = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=False)
    select = (
        exp.select("dimension", "value", "curves")
        .from_(union.subquery("dims"))
        .order_by(_asc(exp.column("dimension")), _asc(exp.column("value")))
    )
    return _query(select, filters, prune, table=table)


# --- building blocks -------------------------------------------------------------------------------------


def _paged_read(
    filters: CurveFilters, extra: list[exp.Expression], extra_prune: list[BooleanExpression]
) -> CurveQuery:
    select = _one_per_tenor([*_conditions(filters), *extra]).order_by(
        *(_asc(exp.column(name)) for name in KEYSET_ORDER)
    )
    return _query(_limit(select, filters), filters, extra_prune)


def _one_per_tenor(conditions: list[exp.Expression], alias: str = "ranked") -> exp.Select:
    """Rows matching ``conditions``, one per (curve_key, tenor_label): greatest asof_date, then _ingest_ts.

    A ROW_NUMBER window in a derived table, filtered outside: QUALIFY is DuckDB-only and a correlated
    MAX(asof_date) subquery would read the table twice and still need the _ingest_ts tie-break.
    """
    ranked = _ranked(conditions, partition_by=_TENOR).subquery(alias)
    return (
        exp.select(*(exp.column(name) for name in CURVE_COLUMNS)).from_(ranked).where(exp.column(_RANK).eq(1))
    )


def _ranked(conditions: list[exp.Expression], partition_by: Iterable[str]) -> exp.Select:
    # dataset and price_type only make the choice deterministic if two rows tie on (asof_date, _ingest_ts).
    window = exp.Window(
        this=exp.RowNumber(),
        partition_by=[_col(name) for name in partition_by],
        order=exp.Order(
            expressions=[
                _desc(_col("asof_date")),
                _desc(_col("_ingest_ts")),
                _asc(_col("dataset")),
                _asc(_col("price_type")),
            ]
        ),
    )
    return (
        exp.select(*(_col(name) for name in CURVE_COLUMNS), exp.alias_(window, _RANK))
        .from_(exp.to_table(OBS))
        .where(exp.and_(*conditions))
    )


def _diff_select(filters: CurveFilters, asof_a: date, asof_b: date) -> exp.Select:
    conditions = _conditions(filters)
    side_a = _one_per_tenor([*conditions, _col("asof_date").eq(_date(asof_a))]).subquery("a")
    side_b = _one_per_tenor([*conditions, _col("asof_date").eq(_date(asof_b))]).subquery("b")
    mid_a, mid_b = exp.column("mid", table="a"), exp.column("mid", table="b")
    diff = exp.Sub(this=mid_b.copy(), expression=mid_a.copy())
    pct = exp.Div(
        this=exp.paren(diff.copy()),
        expression=exp.Nullif(this=mid_a.copy(), expression=exp.Literal.number(0)),
    )
    join_on = exp.and_(*(exp.column(name, table="a").eq(exp.column(name, table="b")) for name in _TENOR))
    return (
        exp.select(
            exp.column("curve_key", table="a"),
            exp.column("tenor_label", table="a"),
            exp.column("tenor_type", table="a"),
            exp.column("contract_month", table="a"),
            exp.alias_(exp.column("asof_date", table="a"), "asof_a"),
            exp.alias_(mid_a, "mid_a"),
            exp.alias_(exp.column("asof_date", table="b"), "asof_b"),
            exp.alias_(mid_b, "mid_b"),
            exp.alias_(diff, "diff_abs"),
            exp.alias_(pct, "diff_pct"),
        )
        .from_(side_a)
        .join(side_b, on=join_on, join_type="inner")
    )


def _conditions(filters: CurveFilters) -> list[exp.Expression]:
    conditions = [_in("dataset", filters.datasets)]
    for name in FILTER_COLUMNS:
        value = getattr(filters, name)
        if value is not None:
            conditions.append(_col(name).eq(exp.Literal.string(value)))
    if filters.curve_keys:
        conditions.append(_in("curve_key", filters.curve_keys))
    return conditions


def _row_filter(filters: CurveFilters, extra: list[BooleanExpression]) -> BooleanExpression:
    """The Iceberg pruning filter: the same predicates as the SQL, minus the ranking."""
    if not filters.datasets:
        return AlwaysFalse()
    parts: list[BooleanExpression] = [_prune_in("dataset", tuple(filters.datasets))]
    for name in FILTER_COLUMNS:
        value = getattr(filters, name)
        if value is not None:
            parts.append(_prune_eq(name, value))
    if filters.curve_keys:
        parts.append(_prune_in("curve_key", tuple(filters.curve_keys)))
    return reduce(And, [*parts, *extra])


# pyiceberg's predicates are pydantic models: mypy reads their generated __init__ as keyword-only, while
# (term, value) is their documented positional constructor.
def _prune_eq(name: str, value: str) -> BooleanExpression:
    return cast(BooleanExpression, cast(Any, EqualTo)(name, value))


def _prune_le(name: str, value: str) -> BooleanExpression:
    return cast(BooleanExpression, cast(Any, LessThanOrEqual)(name, value))


def _prune_in(name: str, values: tuple[str, ...]) -> BooleanExpression:
    return cast(BooleanExpression, cast(Any, In)(name, values))


def _query(
    select: exp.Select,
    filters: CurveFilters,
    extra_prune: list[BooleanExpression],
    table: str = CURVE_OBSERVATION,
) -> CurveQuery:
    scan = ScanSpec(table=table, alias=OBS, row_filter=_row_filter(filters, extra_prune))
    return CurveQuery(expression=select, scans=[scan])


def _limit(select: exp.Select, filters: CurveFilters) -> exp.Select:
    if filters.limit is not None:
        select = select.limit(int(filters.limit))
    if filters.offset:
        select = select.offset(int(filters.offset))
    return select


def _in(name: str, values: Sequence[str]) -> exp.Expression:
    if not values:
        return exp.false()
    return _col(name).isin(*(exp.Literal.string(value) for value in values))


def _col(name: str) -> exp.Column:
    return exp.column(name)


def _date(value: date) -> exp.Expression:
    return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.Type.DATE)


def _asc(this: exp.Expression) -> exp.Ordered:
    return exp.Ordered(this=this, desc=False, nulls_first=False)


def _desc(this: exp.Expression) -> exp.Ordered:
    return exp.Ordered(this=this, desc=True, nulls_first=False)
