"""Reads of a tenant's ``scenario_output`` table as lakehouse query trees (``aurum.lakehouse.sql``): one run's
rows (a page of them, or all) and two runs compared. The engine renders them for DuckDB or Trino; a run's
scan is pinned to the snapshot its rows were committed in, so Trino reads it ``FOR VERSION AS OF`` that.

Builders take plain values and are memoised, so a page read again costs neither building nor rendering (a
kept query holds its tree, ~40 KB, so the caches stay small).
"""

from __future__ import annotations

import functools

from sqlglot import exp

from apps.scenarios.outputs import run_row_filter
from aurum.lakehouse.sql import (
    LakehouseQuery,
    ScanSpec,
    ascending,
    column,
    equals,
    paged,
    scan_table,
)

OUTPUT_ORDER = ("curve_key", "tenor_label", "contract_month", "metric")
COMPARE_COLUMNS = (
    "curve_key",
    "tenor_label",
    "tenor_type",
    "contract_month",
    "metric",
    "value",
    "other_value",
    "delta",
    "delta_pct",
)
_RUN = "so"


def run_output_scan(
    *, table: str, alias: str, scenario_id: str, run_id: str, metric: str | None, snapshot_id: int | None
) -> ScanSpec:
    return ScanSpec(
        table=table,
        alias=alias,
        row_filter=run_row_filter(scenario_id=scenario_id, run_id=run_id, metric=metric),
        snapshot_id=snapshot_id,
    )


@functools.lru_cache(maxsize=256)
def run_outputs_query(
    *,
    table: str,
    scenario_id: str,
    run_id: str,
    snapshot_id: int | None,
    columns: tuple[str, ...] | None = None,
    metric: str | None = None,
    tenor_type: str | None = None,
    curve_key: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> LakehouseQuery:
    """One run's rows (``columns``, or every column), optionally of one metric, tenor type and curve, in the
    keyset order (curve_key, tenor_label, contract_month, metric); a page when ``limit`` is given."""
    values = {"scenario_id": scenario_id, "run_id": run_id, "metric": metric}
    values.update(tenor_type=tenor_type, curve_key=curve_key)
    conditions = [equals(name, value) for name, value in values.items() if value is not None]
    select = (
        exp.select(*((column(name) for name in columns) if columns else (exp.Star(),)))
        .from_(scan_table(_RUN))
        .where(exp.and_(*conditions))
        .order_by(*(ascending(column(name)) for name in OUTPUT_ORDER))
    )
    scan = run_output_scan(
        table=table,
        alias=_RUN,
        scenario_id=scenario_id,
        run_id=run_id,
        metric=metric,
        snapshot_id=snapshot_id,
    )
    return LakehouseQuery(expression=paged(select, limit, offset), scans=(scan,))


@functools.lru_cache(maxsize=64)
def runs_compare_query(
    *,
    table: str,
    run: tuple[str, str, int | None],
    other: tuple[str, str, int | None],
    metric: str,
) -> LakehouseQuery:
    """``run`` and ``other`` (each ``(scenario_id, run_id, output snapshot)``) joined per curve, tenor and
    metric: ``value``, ``other_value``, ``delta = other_value - value``, ``delta_pct = delta / value`` (NULL
    when value is 0); ordered by curve_key, tenor_label, contract_month."""
    a, b = (lambda name: column(name, "a")), (lambda name: column(name, "b"))
    delta = exp.Sub(this=b("value"), expression=a("value"))
    delta_pct = exp.Div(
        this=exp.paren(delta.copy()),
        expression=exp.Nullif(this=a("value"), expression=exp.Literal.number(0)),
    )
    select = (
        exp.select(
            *(
                a(name)
                for name in ("curve_key", "tenor_label", "tenor_type", "contract_month", "metric", "value")
            ),
            exp.alias_(b("value"), "other_value"),
            exp.alias_(delta, "delta"),
            exp.alias_(delta_pct, "delta_pct"),
        )
        .from_(scan_table("a"))
        .join(
            scan_table("b"),
            on=exp.and_(*(a(name).eq(b(name)) for name in ("curve_key", "tenor_label", "metric"))),
            join_type="inner",
        )
        .where(
            exp.and_(
                equals("run_id", run[1], "a"), equals("run_id", other[1], "b"), equals("metric", metric, "a")
            )
        )
        .order_by(*(ascending(a(name)) for name in ("curve_key", "tenor_label", "contract_month")))
    )
    scans = tuple(
        run_output_scan(
            table=table, alias=alias, scenario_id=scenario, run_id=run_id, metric=metric, snapshot_id=snapshot
        )
        for alias, (scenario, run_id, snapshot) in (("a", run), ("b", other))
    )
    return LakehouseQuery(expression=select, scans=scans)
