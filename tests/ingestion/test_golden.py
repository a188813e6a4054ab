"""The golden workbooks of the original Aurum yield exactly their expected canonical rows (spec 8.4)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from apps.ingestion.parsers.enrichment import enrich
from apps.ingestion.parsers.workbook import parse_workbook
from aurum.lakehouse.curve_schema import CURVE_OBSERVATION_FIELDS, EXTRA_FIELDS
from tests.support.paths import ORIGINAL, UNITS_MAP


def _canonical(row: dict[str, Any], fields: list[str]) -> tuple[tuple[str, Any], ...]:
    return tuple(
        (name, row[name].isoformat() if isinstance(row[name], date) else row[name]) for name in fields
    )


def test_avro_contract_columns_come_first_in_order() -> None:
    avro = json.loads((ORIGINAL / "curve.observation.v1.avsc").read_text())

    assert list(CURVE_OBSERVATION_FIELDS) == [field["name"] for field in avro["fields"]]


@pytest.mark.parametrize(("workbook", "vendor"), [("pw_golden.xlsx", "PW"), ("eugp_golden.xlsx", "EUGP")])
def test_golden_rows(workbook: str, vendor: str) -> None:
    expected = json.loads((ORIGINAL / workbook.replace(".xlsx", "_expected.json")).read_text())
    fields = list(expected[0])
    # The expected JSON has no `_ingest_ts` (not even a placeholder): every other Avro field is compared.
    assert fields == [name for name in CURVE_OBSERVATION_FIELDS if name != "_ingest_ts"]
    before = datetime.now(UTC)

    result = parse_workbook(ORIGINAL / workbook, vendor=vendor, as_of=date(2025, 1, 1))
    rows = enrich(result.rows, UNITS_MAP).to_pylist()

    assert result.rows.column_names == [*CURVE_OBSERVATION_FIELDS, *(field.name for field in EXTRA_FIELDS)]
    assert Counter(_canonical(row, fields) for row in rows) == Counter(
        _canonical(row, fields) for row in expected
    )
    assert {row["_ingest_ts"] for row in rows} == {rows[0]["_ingest_ts"]}
    assert before - timedelta(seconds=1) <= rows[0]["_ingest_ts"] <= datetime.now(UTC)
    assert result.asof_source == "override"


def test_pw_golden_bid_merge_duplicates_are_reproduced() -> None:
    """Units are not part of the identity, so the CAD and USD columns share a key and the join multiplies."""
    result = parse_workbook(ORIGINAL / "pw_golden.xlsx", vendor="PW", as_of=date(2025, 1, 1))
    january = [row for row in result.rows.to_pylist() if row["tenor_label"] == "2025-01"]

    assert sorted((row["units_raw"], row["mid"], row["bid"], row["ask"]) for row in january) == [
        ("CAD/MWH", 45.5, 45.0, 46.0),
        ("CAD/MWH", 45.5, 46.5, 47.5),
        ("USD/MWH", 47.0, 45.0, 46.0),
        ("USD/MWH", 47.0, 46.5, 47.5),
    ]
    assert result.sheet_counts == {"Fixed Prices - Mid": 4, "Fixed Prices - BidAsk": 3, "Strips - Mid": 2}


def test_golden_extras_carry_the_corrected_meaning() -> None:
    result = parse_workbook(Path(ORIGINAL / "eugp_golden.xlsx"), vendor="EUGP", as_of=date(2025, 1, 1))
    by_sheet = {row["sheet_name"]: row for row in result.rows.to_pylist()}

    assert by_sheet["Fixed Prices - Mid"]["commodity"] == "gas"
    assert by_sheet["Spark Spread"]["commodity"] == "spark_spread"
    assert {row["units_source"] for row in by_sheet.values()} == {"units_row"}
    assert {row["is_derived"] for row in result.rows.to_pylist()} == {False}
