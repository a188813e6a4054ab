"""The canonical curve row's columns (`curve.observation.v1.avsc`) and Aurum's extra attribute columns: the
schema of the lakehouse's curve tables, which the workbook parsers (apps.ingestion.parsers) produce.

The first `CURVE_OBSERVATION_FIELDS` columns of every table the parsers return are exactly the Avro record's
fields, in the Avro order; the `EXTRA_FIELDS` follow. The extras carry the *corrected* meaning of a row (what
the original identity mapping gets wrong, spec section 8.5) without touching the fields `curve_key` is hashed
from.
"""

from __future__ import annotations

import pyarrow as pa

CURVE_OBSERVATION_FIELDS: tuple[str, ...] = (
    "asof_date",
    "source_file",
    "sheet_name",
    "asset_class",
    "region",
    "iso",
    "location",
    "market",
    "product",
    "block",
    "spark_location",
    "price_type",
    "units_raw",
    "currency",
    "per_unit",
    "tenor_type",
    "contract_month",
    "tenor_label",
    "value",
    "bid",
    "ask",
    "mid",
    "curve_key",
    "version_hash",
    "_ingest_ts",
)

PRICE_TYPES = frozenset({"MID", "BID", "ASK", "LAST", "SETTLE", "INDEX", "STRIP", "CUSTOM"})
TENOR_TYPES = frozenset({"MONTHLY", "QUARTER", "SEASON", "CALENDAR", "STRIP", "CUSTOM"})

# Where the units of a row came from: a `Units` header row, unit text inside the column's own header (EUGP's
# `Dutch_TTF_USDMMBTU`), or nothing at all, so enrichment applies the vendor's documented default.
UNITS_FROM_UNITS_ROW = "units_row"
UNITS_FROM_COLUMN_NAME = "column_name"
UNITS_FROM_VENDOR_DEFAULT = "vendor_default"

_STRING_FIELDS = frozenset(CURVE_OBSERVATION_FIELDS) - {
    "asof_date",
    "contract_month",
    "value",
    "bid",
    "ask",
    "mid",
    "_ingest_ts",
}


def _avro_type(name: str) -> pa.DataType:
    if name in ("asof_date", "contract_month"):
        return pa.date32()
    if name in ("value", "bid", "ask", "mid"):
        return pa.float64()
    if name == "_ingest_ts":
        return pa.timestamp("us", tz="UTC")
    assert name in _STRING_FIELDS
    return pa.string()


EXTRA_FIELDS: tuple[pa.Field, ...] = (
    pa.field("commodity", pa.string()),  # power, gas, carbon, rec, rin, oil, lng, biofuel, spark_spread, ...
    pa.field("unit_note", pa.string()),  # true units stated by the sheet outside a units row, e.g. USD/MMBTU
    pa.field("vendor_region", pa.string()),  # RP's unlabelled region row (US/EU/AP/ME)
    pa.field("units_source", pa.string()),  # one of the UNITS_FROM_* values
    pa.field("is_derived", pa.bool_()),  # True for strips averaged from monthly points
    # Where the numbers were read in the workbook, as A1 references (`C12`): the mid's cell on `sheet_name`
    # (null when the vendor left it blank and the mid is the average of bid and ask, and for derived strips),
    # and the sheet and cell of the `bid / ask` quote (one cell holds both sides; null when there is none).
    pa.field("source_cell", pa.string()),
    pa.field("bid_ask_sheet", pa.string()),
    pa.field("bid_ask_cell", pa.string()),
)

CURVE_OBSERVATION_SCHEMA = pa.schema([pa.field(name, _avro_type(name)) for name in CURVE_OBSERVATION_FIELDS])
CURVE_TABLE_SCHEMA = pa.schema(list(CURVE_OBSERVATION_SCHEMA) + list(EXTRA_FIELDS))

QUARANTINE_REASON_FIELD = pa.field("quarantine_reason", pa.string())
RULES_PASSED_FIELD = pa.field("rules_passed", pa.string())
RULE_WARNINGS_FIELD = pa.field("rule_warnings", pa.string())
