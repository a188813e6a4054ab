"""Build small curve tables by hand for rule, enrichment and strip tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from apps.ingestion.parsers.identity import curve_key, version_hash
from aurum.lakehouse.curve_schema import CURVE_TABLE_SCHEMA

ASOF = date(2025, 9, 12)
INGEST_TS = datetime(2025, 9, 12, 14, 45, tzinfo=UTC)


def curve_row(**overrides: Any) -> dict[str, Any]:
    """Return a complete, valid, clean monthly row; `overrides` replace any field."""
    identity = {
        "asset_class": "power",
        "iso": "PJM",
        "region": "US",
        "location": "West",
        "market": "DA",
        "product": "power",
        "block": "ON_PEAK",
        "spark_location": None,
    }
    identity.update({key: value for key, value in overrides.items() if key in identity})
    row: dict[str, Any] = {
        "asof_date": ASOF,
        "source_file": "EOD_PW_20250912_1430.xlsx",
        "sheet_name": "Fixed Prices - Mid",
        **identity,
        "price_type": "MID",
        "units_raw": "USD/MWH",
        "currency": "USD",
        "per_unit": "MWh",
        "tenor_type": "MONTHLY",
        "contract_month": date(2025, 10, 1),
        "tenor_label": "2025-10",
        "value": 46.75,
        "bid": 46.69,
        "ask": 46.81,
        "mid": 46.75,
        "curve_key": curve_key(
            *(
                identity[name]
                for name in (
                    "asset_class",
                    "iso",
                    "region",
                    "location",
                    "market",
                    "product",
                    "block",
                    "spark_location",
                )
            )
        ),
        "version_hash": version_hash("EOD_PW_20250912_1430.xlsx", "Fixed Prices - Mid", ASOF),
        "_ingest_ts": INGEST_TS,
        "commodity": "power",
        "unit_note": None,
        "vendor_region": None,
        "units_source": "units_row",
        "is_derived": False,
    }
    row.update(overrides)
    return row


def month_row(month: date, mid: float, **overrides: Any) -> dict[str, Any]:
    """A monthly row for `month` with value = mid and a 0.1-wide bid/ask around it."""
    fields = {
        "contract_month": month,
        "tenor_label": f"{month.year:04d}-{month.month:02d}",
        "mid": mid,
        "value": mid,
        "bid": mid - 0.05,
        "ask": mid + 0.05,
    }
    fields.update(overrides)
    return curve_row(**fields)


def curve_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Return `rows` as a table with the parser's schema."""
    return pa.Table.from_pylist(rows, schema=CURVE_TABLE_SCHEMA)
