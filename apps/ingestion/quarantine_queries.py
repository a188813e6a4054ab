"""The quarantine review's read of ``market.curve_observation_quarantine`` as a lakehouse query tree
(``aurum.lakehouse.sql``), rendered for DuckDB or Trino by the engine like every other lakehouse read."""

from __future__ import annotations

import functools
from datetime import date

from sqlglot import exp

from aurum.lakehouse.sql import LakehouseQuery, ScanSpec, ascending, column, equals, literal, scan_table
from aurum.lakehouse.tables import CURVE_QUARANTINE, slice_filter

# What the quarantine review shows of each row: where it came from, what it says, and why it was held back.
QUARANTINE_COLUMNS = (
    "sheet_name",
    "curve_key",
    "location",
    "product",
    "block",
    "tenor_label",
    "contract_month",
    "bid",
    "ask",
    "mid",
    "value",
    "units_raw",
    "currency",
    "quarantine_reason",
)
QUARANTINE_ORDER = ("sheet_name", "curve_key", "tenor_label", "contract_month", "price_type")
_ALIAS = "q"


@functools.lru_cache(maxsize=64)
def quarantine_rows_query(*, dataset: str, asof: date, run_id: int) -> LakehouseQuery:
    """The rows one ingest run held back in the (dataset, as-of) slice, in sheet, curve and tenor order;
    pruned to the slice's partition."""
    select = (
        exp.select(*(column(name) for name in QUARANTINE_COLUMNS))
        .from_(scan_table(_ALIAS))
        .where(
            exp.and_(
                equals("dataset", dataset),
                column("asof_date").eq(literal(asof)),
                equals("ingest_run_id", int(run_id)),
            )
        )
        .order_by(*(ascending(column(name)) for name in QUARANTINE_ORDER))
    )
    scan = ScanSpec(CURVE_QUARANTINE, _ALIAS, row_filter=slice_filter(dataset, asof))
    return LakehouseQuery(expression=select, scans=(scan,))
