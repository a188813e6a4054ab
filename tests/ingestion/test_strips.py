"""Derived CALENDAR and QUARTER strips: averages of complete periods of monthly points (spec 2.1)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from apps.ingestion.parsers.enrichment import enrich
from apps.ingestion.parsers.identity import version_hash
from apps.ingestion.parsers.quality import quarantine_split
from apps.ingestion.parsers.strips import derived_strips
from apps.ingestion.parsers.workbook import parse_workbook
from tests.support.cells import sheet_cells
from tests.support.paths import EOD_DIR, UNITS_MAP
from tests.support.rows import ASOF, curve_row, curve_table, month_row

EUGP_FILE = EOD_DIR / "EOD_EUGP_20250912_1430.xlsx"


@pytest.fixture(scope="module")
def eugp_strips() -> list[dict[str, Any]]:
    clean, _ = quarantine_split(enrich(parse_workbook(EUGP_FILE).rows, UNITS_MAP))
    return derived_strips(clean).to_pylist()


def _column_series(path: Path, sheet: str, product: str, block: str) -> dict[date, float | str]:
    """Month -> cell of the column whose Product/PEAK headers match, read from raw XML (serial dates)."""
    cells = sheet_cells(path, sheet)
    label_row = {value: row for row, column, value in cells if column == 2 and value in ("Product", "PEAK")}
    products = {column for row, column, value in cells if row == label_row["Product"] and value == product}
    blocks = {column for row, column, value in cells if row == label_row["PEAK"] and value == block}
    (column,) = products & blocks
    months = {row: int(value) for row, col, value in cells if col == 2 and isinstance(value, float)}
    series: dict[date, float | str] = {}
    for row, col, value in cells:
        if col == column and row in months:
            serial = date.fromordinal(date(1899, 12, 30).toordinal() + months[row])
            series[serial] = value
    return series


def test_calendar_and_quarter_averages_match_the_workbook(eugp_strips: list[dict[str, Any]]) -> None:
    mids = {
        month: float(value)
        for month, value in _column_series(EUGP_FILE, "Fixed Prices - Mid", "Belgium", "NA").items()
    }
    quotes = _column_series(EUGP_FILE, "Fixed Prices - BidAsk", "Belgium", "NA")
    bids = {month: float(str(text).split("/")[0]) for month, text in quotes.items()}
    asks = {month: float(str(text).split("/")[1]) for month, text in quotes.items()}
    derived = {
        row["tenor_label"]: row
        for row in eugp_strips
        if (row["location"], row["block"], row["product"]) == ("Belgium", "NA", "fixed prices")
    }

    calendar = derived["Calendar 2027"]
    months_2027 = [date(2027, month, 1) for month in range(1, 13)]
    assert calendar["mid"] == pytest.approx(math.fsum(mids[m] for m in months_2027) / 12, rel=1e-12)
    assert calendar["bid"] == pytest.approx(math.fsum(bids[m] for m in months_2027) / 12, rel=1e-12)
    assert calendar["ask"] == pytest.approx(math.fsum(asks[m] for m in months_2027) / 12, rel=1e-12)
    assert (calendar["value"], calendar["contract_month"], calendar["tenor_type"]) == (
        calendar["mid"],
        date(2027, 1, 1),
        "CALENDAR",
    )
    quarter = derived["Q2 2026"]
    months_q2 = [date(2026, month, 1) for month in (4, 5, 6)]
    assert quarter["mid"] == pytest.approx(math.fsum(mids[m] for m in months_q2) / 3, rel=1e-12)
    assert (quarter["contract_month"], quarter["tenor_type"]) == (date(2026, 4, 1), "QUARTER")


def test_only_complete_periods_are_derived(eugp_strips: list[dict[str, Any]]) -> None:
    labels = {row["tenor_label"] for row in eugp_strips}

    # Monthly points run 2025-09 .. 2035-09: 2025 and 2035 are partial years and Q3 2025 a partial quarter.
    assert "Calendar 2025" not in labels
    assert "Calendar 2035" not in labels
    assert "Q3 2025" not in labels
    assert {"Q4 2025", "Calendar 2026", "Calendar 2034", "Q3 2035"} <= labels
    # 83 monthly curves x (Q4 2025 + 9 calendars and 36 quarters for 2026-2034 + Q1-Q3 2035)
    assert len(eugp_strips) == 83 * (1 + 9 * 5 + 3)


def test_derived_rows_are_marked_and_versioned(eugp_strips: list[dict[str, Any]]) -> None:
    row = eugp_strips[0]

    assert {r["is_derived"] for r in eugp_strips} == {True}
    assert {r["price_type"] for r in eugp_strips} == {"MID"}
    expected = version_hash(EUGP_FILE.name, f"{row['sheet_name']} (derived {row['tenor_type']})", ASOF)
    assert row["version_hash"] == expected
    assert row["version_hash"] != version_hash(EUGP_FILE.name, row["sheet_name"], ASOF)


def _months(location: str, values: dict[int, float], **overrides: Any) -> list[dict[str, Any]]:
    return [
        month_row(date(2026, month, 1), mid, location=location, **overrides) for month, mid in values.items()
    ]


def _derive(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["tenor_label"]: row for row in derived_strips(curve_table(rows)).to_pylist()}


FULL_YEAR = {month: 40.0 + month for month in range(1, 13)}


def test_a_missing_month_removes_its_quarter_and_year() -> None:
    derived = _derive(_months("West", {month: mid for month, mid in FULL_YEAR.items() if month != 5}))

    assert set(derived) == {"Q1 2026", "Q3 2026", "Q4 2026"}
    assert derived["Q1 2026"]["mid"] == pytest.approx((41.0 + 42.0 + 43.0) / 3)
    assert derived["Q1 2026"]["bid"] == pytest.approx((40.95 + 41.95 + 42.95) / 3)


def test_disagreeing_rows_for_a_month_make_its_periods_undecidable() -> None:
    rows = _months("West", FULL_YEAR)
    rows.append(month_row(date(2026, 2, 1), 99.0, location="West"))
    rows.append(month_row(date(2026, 8, 1), FULL_YEAR[8], location="West"))  # an exact duplicate counts once

    assert set(_derive(rows)) == {"Q2 2026", "Q3 2026", "Q4 2026"}


def test_a_month_without_bid_leaves_the_bid_average_empty() -> None:
    rows = _months("West", {1: 41.0, 2: 42.0, 3: 43.0})
    rows[1]["bid"] = None

    quarter = _derive(rows)["Q1 2026"]

    assert (quarter["mid"], quarter["bid"]) == (pytest.approx(42.0), None)
    assert quarter["ask"] == pytest.approx(42.05)


def test_months_in_different_units_are_not_averaged() -> None:
    rows = _months("West", {1: 41.0, 2: 42.0, 3: 43.0})
    rows[2]["units_raw"], rows[2]["currency"] = "CAD/MWH", "CAD"

    assert _derive(rows) == {}


def test_a_strip_the_vendor_quotes_is_not_derived_again() -> None:
    vendor_strip = curve_row(
        location="West",
        tenor_type="CALENDAR",
        tenor_label="Calendar 2026",
        contract_month=None,
        sheet_name="Strips - Mid",
    )

    derived = _derive([*_months("West", FULL_YEAR), vendor_strip])

    assert "Calendar 2026" not in derived
    assert {"Q1 2026", "Q2 2026", "Q3 2026", "Q4 2026"} == set(derived)


def test_curves_and_as_of_dates_are_kept_apart() -> None:
    rows = _months("West", {1: 41.0, 2: 42.0, 3: 43.0})
    rows += _months("East", {1: 1.0, 2: 2.0, 3: 3.0})
    rows += [
        month_row(date(2026, m, 1), 10.0, location="West", asof_date=date(2025, 9, 11)) for m in (1, 2, 3)
    ]

    table = derived_strips(curve_table(rows))
    means = {(row["location"], row["asof_date"]): row["mid"] for row in table.to_pylist()}

    assert means == {
        ("West", ASOF): pytest.approx(42.0),
        ("East", ASOF): pytest.approx(2.0),
        ("West", date(2025, 9, 11)): pytest.approx(10.0),
    }


def test_derived_rows_never_feed_derivation() -> None:
    rows = _months("West", {1: 41.0, 2: 42.0, 3: 43.0}, is_derived=True)

    assert _derive(rows) == {}


def test_derivation_is_stable_for_the_pipeline(eugp_strips: list[dict[str, Any]]) -> None:
    again: Callable[[], list[dict[str, Any]]] = lambda: derived_strips(  # noqa: E731
        quarantine_split(enrich(parse_workbook(EUGP_FILE).rows, UNITS_MAP))[0]
    ).to_pylist()
    keys = [(row["curve_key"], row["tenor_label"], row["mid"]) for row in eugp_strips]

    assert keys == [(row["curve_key"], row["tenor_label"], row["mid"]) for row in again()]
