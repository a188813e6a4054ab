"""Layout rules on generated workbooks: columns more or less, carry-forward, units, joins, tenors, as-of."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from apps.ingestion.parsers.enrichment import enrich
from apps.ingestion.parsers.layout import classify_tenor, read_layout
from apps.ingestion.parsers.quality import quarantine_split
from apps.ingestion.parsers.workbook import parse_workbook
from tests.support.paths import UNITS_MAP
from tests.support.workbooks import (
    ASOF,
    MONTHS,
    Cell,
    eugp_workbook,
    pw_workbook,
    real_layout_sheet,
    rp_workbook,
    write_workbook,
)

EUGP_NAME = "EOD_EUGP_20250912_1430.xlsx"


@pytest.mark.parametrize("columns", [1, 2, 3, 7])
def test_any_number_of_curve_columns(columns: int) -> None:
    data = eugp_workbook(
        locations=["EU"] * columns, products=[f"Hub{i}" for i in range(columns)], blocks=["NA"] * columns
    )

    result = parse_workbook(data, filename=EUGP_NAME)

    assert result.rows.num_rows == columns * len(MONTHS)
    assert result.sheet_counts == {"Fixed Prices - Mid": columns * 3, "Fixed Prices - BidAsk": columns * 3}
    assert sorted(set(result.rows.column("location").to_pylist())) == sorted(
        f"Hub{i}" for i in range(columns)
    )
    assert result.warnings == (
        "sheet 'Strips - Mid' not found",
        "sheet 'Strips - BidAsk' not found",
        "sheet 'Spark Spread' not found",
    )


def test_bid_ask_sheet_with_a_column_less_leaves_that_curve_unquoted() -> None:
    mids = [[30.0, 40.0], [31.0, 41.0], [32.0, 42.0]]
    bid_asks = [["29.9 / 30.1"], ["30.9 / 31.1"], ["31.9 / 32.1"]]
    data = eugp_workbook(mids=mids, bid_asks=bid_asks)

    rows = parse_workbook(data, filename=EUGP_NAME).rows.to_pylist()

    quoted = {(row["location"], row["tenor_label"]): (row["bid"], row["ask"]) for row in rows}
    assert quoted[("Dutch_TTF", "2025-09")] == (29.9, 30.1)
    assert quoted[("NBP", "2025-09")] == (None, None)
    assert len(rows) == 6


def test_carry_forward_fills_blank_headers_from_the_left_but_not_units() -> None:
    header = [
        ["ISO:", "", "PJM", ""],
        ["Market:", "", "DA", ""],
        ["Hours:", "", "ON_PEAK", "OFF_PEAK"],
        ["Location:", "", "West", ""],
        ["Units:", "", "$/MWh", ""],
    ]
    data = pw_workbook(header, [["", date(2025, 10, 1), 46.75, 30.5]])

    rows = enrich(parse_workbook(data, filename="EOD_PW_20250912_1430.xlsx").rows, UNITS_MAP).to_pylist()

    west_off_peak = rows[1]
    assert (west_off_peak["iso"], west_off_peak["market"], west_off_peak["location"]) == ("PJM", "DA", "West")
    assert west_off_peak["block"] == "OFF_PEAK"
    assert west_off_peak["units_raw"] is None  # units come from the same column only
    assert (rows[0]["units_raw"], rows[0]["currency"], rows[0]["per_unit"]) == ("$/MWH", "USD", "MWh")
    clean, quarantined = quarantine_split(
        enrich(parse_workbook(data, filename="EOD_PW_2025.xlsx", as_of=ASOF).rows, UNITS_MAP)
    )
    assert quarantined.column("quarantine_reason").to_pylist() == ["missing_units_raw"]
    assert clean.num_rows == 1


def test_simple_vendor_does_not_carry_forward() -> None:
    header = [
        ["ISO", "", "PJM", ""],
        ["Hours", "", "ON_PEAK", "OFF_PEAK"],
        ["Units", "", "USD/MWh", "USD/MWh"],
    ]
    data = pw_workbook(header, [["", date(2025, 10, 1), 46.75, 30.5]])

    rows = parse_workbook(data, filename="EOD_SIMPLE_20250912.xlsx").rows.to_pylist()

    assert [row["iso"] for row in rows] == ["PJM", None]
    assert [row["product"] for row in rows] == ["power", "power"]


def test_pw_defaults_for_missing_location_market_and_product() -> None:
    header = [["ISO:", "", "ERCOT"], ["Units:", "", "USD/MWh"]]
    data = pw_workbook(header, [["", date(2025, 10, 1), 50.0]], sheet="Fixed Prices - Mid")

    row = parse_workbook(data, filename="EOD_PW_20250912_1430.xlsx").rows.to_pylist()[0]

    assert (row["location"], row["market"], row["product"], row["region"]) == (
        "ERCOT",
        "ERCOT",
        "fixed prices",
        "US",
    )


def test_missing_mid_is_filled_from_bid_and_ask_and_empty_cells_are_dropped() -> None:
    mids: list[list[Cell]] = [[30.0, ""], ["", ""], [32.0, 42.0]]
    bid_asks = [["29.9 / 30.1", "39.0 / 41.0"], ["", ""], ["1,031.9 / 1,032.1", "42"]]
    data = eugp_workbook(mids=mids, bid_asks=bid_asks)

    rows = parse_workbook(data, filename=EUGP_NAME).rows.to_pylist()
    found = {
        (row["location"], row["tenor_label"]): (row["mid"], row["value"], row["bid"], row["ask"])
        for row in rows
    }

    assert found == {
        ("Dutch_TTF", "2025-09"): (30.0, 30.0, 29.9, 30.1),
        ("NBP", "2025-09"): (40.0, 40.0, 39.0, 41.0),  # mid from (bid + ask) / 2
        ("Dutch_TTF", "2025-11"): (32.0, 32.0, 1031.9, 1032.1),  # thousands commas removed
        ("NBP", "2025-11"): (42.0, 42.0, 42.0, 42.0),  # a single number is both bid and ask
    }  # 2025-10 has no value at all: dropped


def test_non_numeric_cells_are_not_prices() -> None:
    # Excel cannot hold a non-finite number; "inf" as text must not become one either.
    mids: list[list[Cell]] = [[30.0, "n/a"], ["#N/A", 41.0], ["inf", 42.0]]
    bid_asks = [["29.9 / 30.1", "x / y"], ["", "40.9 / 41.1 / 41.3"], ["", "41.9 / NA"]]
    data = eugp_workbook(mids=mids, bid_asks=bid_asks)

    result = parse_workbook(data, filename=EUGP_NAME)

    assert result.sheet_counts == {"Fixed Prices - Mid": 3, "Fixed Prices - BidAsk": 2}
    found = {
        (row["location"], row["tenor_label"]): (row["mid"], row["bid"], row["ask"])
        for row in result.rows.to_pylist()
    }
    assert found == {
        ("Dutch_TTF", "2025-09"): (30.0, 29.9, 30.1),
        ("NBP", "2025-10"): (41.0, None, None),
        ("NBP", "2025-11"): (42.0, 41.9, None),
    }


def test_rp_region_row_and_commodity_go_to_extra_columns() -> None:
    rows = parse_workbook(rp_workbook(), filename="EOD_RP_20250912_1430.xlsx").rows.to_pylist()

    solar, lng = rows[0], rows[-1]
    assert (solar["vendor_region"], solar["commodity"], solar["iso"], solar["region"]) == (
        "US",
        "rec",
        "US",
        None,
    )
    assert (lng["vendor_region"], lng["commodity"], lng["location"], lng["market"]) == (
        "AP",
        "lng",
        "Japan",
        "Japan",
    )
    assert {row["block"] for row in rows} == {None}


@pytest.mark.parametrize(
    ("cell", "tenor_type", "label", "contract_month"),
    [
        (date(2026, 1, 1), "MONTHLY", "2026-01", date(2026, 1, 1)),
        (datetime(2026, 2, 15, 0, 0), "MONTHLY", "2026-02", date(2026, 2, 1)),
        (46023.0, "MONTHLY", "2026-01", date(2026, 1, 1)),  # an Excel serial that lost its date format
        ("Calendar 2026", "CALENDAR", "Calendar 2026", None),
        ("  Winter 2026 ", "SEASON", "Winter 2026", None),
        ("Summer 2027", "SEASON", "Summer 2027", None),
        ("Bal 2025", "SEASON", "Bal 2025", None),
        ("Oct-Dec Strip", "SEASON", "Oct-Dec Strip", None),
        ("Q1 2025", "QUARTER", "Q1 2025", None),
        ("Sep-25", "MONTHLY", "Sep-25", None),
    ],
)
def test_tenor_rules(cell: object, tenor_type: str, label: str, contract_month: date | None) -> None:
    tenor = classify_tenor(cell)

    assert tenor is not None
    assert (tenor.tenor_type, tenor.label, tenor.contract_month) == (tenor_type, label, contract_month)


def test_blank_tenor_cells_are_not_tenors() -> None:
    assert classify_tenor("") is None
    assert classify_tenor(None) is None


def test_layout_reads_labels_in_either_column_with_or_without_colons() -> None:
    rows: list[list[object]] = [
        ["", "", ""],
        ["ISO:", "", "PJM"],
        ["", "market", "DA"],
        ["", "  HOURS  :", "ON_PEAK"],
        ["", date(2025, 9, 1), 1.0],
    ]

    layout = read_layout(
        "Fixed Prices - Mid",
        rows,
        header_labels={"iso": "iso", "market": "market", "hours": "block"},
        carry_forward=True,
    )

    assert layout.header_value("iso", 2) == "PJM"
    assert layout.header_value("market", 2) == "DA"
    assert layout.header_value("block", 2) == "ON_PEAK"
    assert layout.labels == ["iso", "market", "hours"]
    assert len(layout.data_rows) == 1


def test_unknown_header_rows_are_ignored_with_a_warning() -> None:
    headers = [("Location", ["EU"]), ("Product", ["TTF"]), ("Currency", ["EUR"]), ("PEAK", ["NA"])]
    sheet = real_layout_sheet(headers, MONTHS, [[1.0], [2.0], [3.0]], marker="Mid")

    result = parse_workbook(write_workbook({"Fixed Prices - Mid": sheet}), filename=EUGP_NAME)

    assert "sheet 'Fixed Prices - Mid': ignored unknown header rows 'currency'" in result.warnings
    assert result.rows.num_rows == 3


class TestAsOf:
    def test_override_wins(self) -> None:
        result = parse_workbook(eugp_workbook(), filename=EUGP_NAME, as_of=date(2025, 1, 2))

        assert (result.asof_date, result.asof_source) == (date(2025, 1, 2), "override")
        assert set(result.rows.column("asof_date").to_pylist()) == {date(2025, 1, 2)}

    def test_date_cell_beats_file_name_and_the_disagreement_is_reported(self) -> None:
        result = parse_workbook(eugp_workbook(asof=date(2025, 9, 11)), filename=EUGP_NAME)

        assert (result.asof_date, result.asof_source) == (date(2025, 9, 11), "date_cell")
        assert (
            "file name says 2025-09-12 but the Date: cell says 2025-09-11; using 2025-09-11"
            in result.warnings
        )

    def test_text_date_cell(self) -> None:
        result = parse_workbook(eugp_workbook(asof="09/10/2025"), filename="EOD_EUGP.xlsx")

        assert (result.asof_date, result.asof_source) == (date(2025, 9, 10), "date_cell")

    def test_file_name_when_there_is_no_date_cell(self) -> None:
        result = parse_workbook(eugp_workbook(asof=""), filename="EOD_EUGP_20250903_1430.xlsx")

        assert (result.asof_date, result.asof_source) == (date(2025, 9, 3), "file_name")

    @pytest.mark.parametrize(
        ("text", "expected"),
        [("Prices as of 09/05/2025", date(2025, 9, 5)), ("Run 2025-09-04 14:30", date(2025, 9, 4))],
    )
    def test_text_patterns_when_nothing_else_says(self, text: str, expected: date) -> None:
        notes: list[list[Cell]] = [["Generated by the vendor"], [text]]
        data = eugp_workbook(asof="", extra_sheets={"Notes": notes})

        result = parse_workbook(data, filename="EOD_EUGP.xlsx")

        assert (result.asof_date, result.asof_source) == (expected, "text")

    def test_as_of_text_beats_a_bare_iso_date(self) -> None:
        notes: list[list[Cell]] = [["Run 2025-09-04"], ["Marks as of 09/05/2025"]]
        data = eugp_workbook(asof="", extra_sheets={"Notes": notes})

        assert parse_workbook(data, filename="EOD_EUGP.xlsx").asof_date == date(2025, 9, 5)
