"""Every real EOD workbook in ../shared/fixtures/eod parses, and its numbers match an independent reading."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pyarrow.compute as pc
import pytest

from apps.ingestion.parsers.enrichment import enrich
from apps.ingestion.parsers.identity import version_hash
from apps.ingestion.parsers.quality import quarantine_split
from apps.ingestion.parsers.workbook import ParseResult, parse_workbook
from aurum.lakehouse.curve_schema import CURVE_TABLE_SCHEMA
from tests.support.cells import BID_ASK_TEXT, count_price_cells, sheet_cells
from tests.support.paths import UNITS_MAP, eod_files

ALL_FILES = eod_files()
SHEETS = {
    "EUGP": [
        "Fixed Prices - Mid",
        "Fixed Prices - BidAsk",
        "Strips - Mid",
        "Strips - BidAsk",
        "Spark Spread",
    ],
    "RP": [
        "Fixed Prices - Mid",
        "Fixed Prices - BidAsk",
        "Seasonal Blocks - Mid",
        "Seasonal Blocks - BidAsk",
    ],
}
# Identity header labels per vendor, as they appear in column B (units are not part of the identity).
IDENTITY_LABELS = {"EUGP": ("Location", "Product", "PEAK", "Spark Location"), "RP": ("Location", "Product")}


def _sample(vendor: str) -> list[Path]:
    files = eod_files(vendor)
    return [files[0], files[len(files) // 2], files[-1]]


SAMPLE = _sample("EUGP") + _sample("RP")


def _ids(paths: list[Path]) -> list[str]:
    return [path.stem for path in paths]


@pytest.fixture(scope="module")
def parsed() -> Callable[[Path], ParseResult]:
    cache: dict[Path, ParseResult] = {}

    def get(path: Path) -> ParseResult:
        if path not in cache:
            cache[path] = parse_workbook(path)
        return cache[path]

    return get


def test_fixture_set_is_complete() -> None:
    assert len(eod_files("EUGP")) == 52
    assert len(eod_files("RP")) == 52


@pytest.mark.parametrize("path", ALL_FILES, ids=_ids(ALL_FILES))
def test_every_workbook_parses(path: Path, parsed: Callable[[Path], ParseResult]) -> None:
    vendor, stamp = path.stem.split("_")[1:3]
    file_date = datetime.strptime(stamp, "%Y%m%d").date()

    result = parsed(path)

    assert result.vendor == vendor
    assert (result.asof_date, result.asof_source) == (file_date, "date_cell")
    assert result.warnings == ()
    assert result.rows.schema == CURVE_TABLE_SCHEMA
    assert list(result.sheet_counts) == SHEETS[vendor]
    # Every day of both vendors has the same shape as the spec's 2025-09-12 count (spec 5.1 "Volumes").
    if vendor == "EUGP":
        assert [result.sheet_counts[name] for name in SHEETS[vendor]] == [5808, 5808, 1440, 1440, 4235]
    else:
        assert [result.sheet_counts[name] for name in SHEETS[vendor]] == [22387, 22387, 5505, 5505]
    rows = result.rows
    assert pc.all(pc.is_valid(rows.column("curve_key"))).as_py()
    assert pc.all(pc.is_valid(rows.column("mid"))).as_py()
    assert pc.all(pc.equal(rows.column("value"), rows.column("mid"))).as_py()
    slices = rows.group_by(["sheet_name", "version_hash"]).aggregate([]).to_pylist()
    assert {row["version_hash"] for row in slices} == {
        version_hash(path.name, row["sheet_name"], file_date) for row in slices
    }
    assert len(slices) == len({row["sheet_name"] for row in slices})  # one version per sheet and day


def _expected_rows(path: Path, vendor: str, mid_sheet: str, bid_ask_sheet: str | None) -> int:
    """Rows the join must produce, from raw XML: per tenor and identity group of k columns holding m mids and
    b quotes, k * b rows when quoted (each column's cell meets every quote of its identity), else m rows."""

    def grid(
        sheet: str,
    ) -> tuple[dict[int, tuple[str, ...]], dict[int, object], dict[tuple[int, int], object]]:
        cells = sheet_cells(path, sheet)
        label_rows = {
            value: row for row, column, value in cells if column == 2 and value in IDENTITY_LABELS[vendor]
        }
        identity: dict[int, list[str]] = defaultdict(list)
        values: dict[tuple[int, int], object] = {}
        tenors: dict[int, object] = {}
        data_start = max(label_rows.values()) + 2  # the marker row follows the header rows
        for row, column, value in cells:
            if column == 2 and row > data_start:
                tenors[row] = value
            if column >= 3 and row > data_start:
                values[(row, column)] = value
        for label in IDENTITY_LABELS[vendor]:
            for row, column, value in cells:
                if row == label_rows.get(label) and column >= 3:
                    identity[column].append(str(value))
        return {column: tuple(labels) for column, labels in identity.items()}, tenors, values

    mid_identity, mid_tenors, mid_values = grid(mid_sheet)
    quotes: dict[tuple[object, tuple[str, ...]], int] = defaultdict(int)
    if bid_ask_sheet is not None:
        bid_identity, bid_tenors, bid_values = grid(bid_ask_sheet)
        for (row, column), value in bid_values.items():
            if isinstance(value, str) and BID_ASK_TEXT.match(value):
                quotes[(bid_tenors[row], bid_identity[column])] += 1
    groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for column, identity in mid_identity.items():
        groups[identity].append(column)
    total = 0
    for row, tenor in mid_tenors.items():
        for identity, columns in groups.items():
            quoted = quotes.get((tenor, identity), 0)
            present = sum(isinstance(mid_values.get((row, column)), float) for column in columns)
            total += len(columns) * quoted if quoted else present
    return total


@pytest.mark.parametrize("path", SAMPLE, ids=_ids(SAMPLE))
def test_counts_match_an_independent_xml_reading(path: Path, parsed: Callable[[Path], ParseResult]) -> None:
    vendor = path.stem.split("_")[1]
    result = parsed(path)

    for sheet in SHEETS[vendor]:
        assert result.sheet_counts[sheet] == count_price_cells(path, sheet), sheet
    for mid_sheet, rows in result.rows_per_sheet().items():
        bid_ask_sheet = mid_sheet.replace("Mid", "BidAsk") if mid_sheet.endswith("Mid") else None
        assert rows == _expected_rows(path, vendor, mid_sheet, bid_ask_sheet), mid_sheet


def _only(rows: list[dict[str, object]]) -> dict[str, object]:
    assert len(rows) == 1, rows
    return rows[0]


def test_known_eugp_spark_spread_value(parsed: Callable[[Path], ParseResult]) -> None:
    result = parsed(next(path for path in ALL_FILES if path.name == "EOD_EUGP_20250912_1430.xlsx"))
    row = _only(
        [
            row
            for row in result.rows.to_pylist()
            if row["sheet_name"] == "Spark Spread"
            and row["location"] == "Austrian"
            and row["block"] == "BASE"
            and row["tenor_label"] == "2025-09"
        ]
    )

    assert row["mid"] == 25.81827660034004
    assert row["value"] == 25.81827660034004
    assert row["spark_location"] == "Austrian_CEGH"
    assert (row["iso"], row["market"], row["product"], row["commodity"]) == (
        "EU",
        "EU",
        "spark spread",
        "spark_spread",
    )
    assert row["contract_month"] == date(2025, 9, 1)


def test_known_rp_seasonal_value(parsed: Callable[[Path], ParseResult]) -> None:
    result = parsed(next(path for path in ALL_FILES if path.name == "EOD_RP_20250912_1430.xlsx"))
    row = _only(
        [
            row
            for row in result.rows.to_pylist()
            if row["sheet_name"] == "Seasonal Blocks - Mid"
            and row["product"] == "Maryland Compliance Renewable Energy Credit Tier 1"
            and row["tenor_label"] == "Calendar 2025"
        ]
    )

    assert row["mid"] == 25.267
    assert (row["bid"], row["ask"]) == (25.237, 25.297)
    assert (row["tenor_type"], row["contract_month"]) == ("CALENDAR", None)
    assert (row["iso"], row["region"], row["location"], row["market"]) == (
        "US",
        None,
        "East Coast",
        "East Coast",
    )
    assert (row["vendor_region"], row["commodity"]) == ("US", "rec")


@pytest.mark.parametrize("path", SAMPLE, ids=_ids(SAMPLE))
def test_real_workbooks_publish_cleanly(path: Path, parsed: Callable[[Path], ParseResult]) -> None:
    rows = enrich(parsed(path).rows, UNITS_MAP)

    clean, quarantined = quarantine_split(rows)

    assert quarantined.num_rows == 0
    # RP lists "Marine Fuel 0.5% FOB Singapore vs Brent 1st Line" twice with identical numbers: the join makes
    # 2 x 2 rows per tenor (61 months + 15 strips) and the exact-duplicate collapse keeps one of the four.
    dropped = 3 * (61 + 15) if path.name.startswith("EOD_RP") else 0
    assert clean.num_rows == rows.num_rows - dropped
    assert set(clean.column("rules_passed").to_pylist()) == {
        "ask_ge_bid|mid_within_bid_ask|no_duplicate_key|monthly_continuity"
    }


def test_eugp_units_stated_in_column_names(parsed: Callable[[Path], ParseResult]) -> None:
    result = parsed(eod_files("EUGP")[-1])
    rows = enrich(result.rows, UNITS_MAP).to_pylist()
    by_location = {
        (row["location"], row["sheet_name"]): row for row in rows if row["tenor_label"] == "2025-10"
    }

    dutch = by_location[("Dutch_TTF_USDMMBTU", "Fixed Prices - Mid")]
    assert (dutch["unit_note"], dutch["units_raw"], dutch["currency"], dutch["per_unit"]) == (
        "USD/MMBTU",
        "USD/MMBTU",
        "USD",
        "MMBtu",
    )
    assert dutch["units_source"] == "column_name"
    ttf = by_location[("Dutch_TTF", "Fixed Prices - Mid")]
    assert (ttf["unit_note"], ttf["units_raw"], ttf["currency"], ttf["commodity"]) == (
        None,
        "EUR/MWH",
        "EUR",
        "gas",
    )
    hungary = next(row for row in rows if row["location"] == "Hungary" and row["block"] == "BASE")
    assert (hungary["iso"], hungary["currency"], hungary["per_unit"]) == ("EE", "EUR", "MWh")
    uka = by_location[("UKA", "Fixed Prices - Mid")]
    assert (uka["block"], uka["commodity"], uka["currency"]) == ("EMISSIONS", "carbon", "GBP")
