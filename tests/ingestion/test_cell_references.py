"""Every parsed point names the workbook cell it was read from: its mid's A1 reference on `sheet_name`
(`source_cell`) and the sheet and cell of its `bid / ask` quote. Checked against the real vendor workbooks,
opened independently with openpyxl: the cell at each recorded reference holds exactly the recorded price."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from apps.ingestion.parsers.cellref import column_letters
from apps.ingestion.parsers.strips import derived_strips
from apps.ingestion.parsers.workbook import parse_workbook
from tests.support.paths import ORIGINAL, eod_files
from tests.support.workbook_cells import bid_ask_quote, workbook_cells
from tests.support.workbooks import MONTHS, pw_workbook

CELL_COLUMNS = ("source_cell", "bid_ask_sheet", "bid_ask_cell")


def _real_days() -> list[Path]:
    """The first and the last day of each vendor's real workbooks."""
    return [path for vendor in ("EUGP", "RP") for path in (eod_files(vendor)[0], eod_files(vendor)[-1])]


@pytest.mark.parametrize("path", _real_days(), ids=lambda path: path.name)
def test_every_point_of_a_real_workbook_is_the_value_of_its_recorded_cell(path: Path) -> None:
    rows = parse_workbook(path).rows.to_pylist()
    cells = workbook_cells(path)

    mids = [(cells.get((row["sheet_name"], row["source_cell"])), row["mid"]) for row in rows]
    quotes = [
        (bid_ask_quote(cells[(row["bid_ask_sheet"], row["bid_ask_cell"])]), (row["bid"], row["ask"]))
        for row in rows
        if row["bid_ask_cell"] is not None
    ]

    assert all(row["source_cell"] is not None for row in rows)  # no mid of these files is averaged
    assert all(isinstance(cell, int | float) and cell == mid for cell, mid in mids)
    assert quotes and all(quoted == parsed for quoted, parsed in quotes)
    quoted_sheets = {row["sheet_name"]: row["bid_ask_sheet"] for row in rows if row["bid_ask_cell"]}
    assert quoted_sheets == {name: name.replace("- Mid", "- BidAsk") for name in quoted_sheets}
    assert all((row["bid_ask_sheet"] is None) == (row["bid_ask_cell"] is None) for row in rows)


def test_the_known_values_name_their_cells() -> None:
    eugp = parse_workbook(eod_files("EUGP")[-1]).rows.to_pylist()
    rp = parse_workbook(eod_files("RP")[-1]).rows.to_pylist()

    spark = next(
        row
        for row in eugp
        if row["sheet_name"] == "Spark Spread"
        and row["location"] == "Austrian"
        and row["block"] == "BASE"
        and row["tenor_label"] == "2025-09"
    )
    maryland = [
        row
        for row in rp
        if row["sheet_name"] == "Seasonal Blocks - Mid"
        and row["product"] == "Maryland Compliance Renewable Energy Credit Tier 1"
        and row["tenor_label"] == "Calendar 2025"
    ]

    assert spark["mid"] == 25.81827660034004
    assert (spark["source_cell"], spark["bid_ask_sheet"], spark["bid_ask_cell"]) == ("C12", None, None)
    assert {(row["mid"], row["source_cell"], row["bid_ask_sheet"]) for row in maryland} == {
        (25.267, maryland[0]["source_cell"], "Seasonal Blocks - BidAsk")
    }


def test_join_duplicates_keep_each_side_of_their_own_cells() -> None:
    """The PW golden file's CAD and USD columns share a key: each of the four joined rows names its mid's
    column and its quote's column."""
    rows = parse_workbook(ORIGINAL / "pw_golden.xlsx", vendor="PW", as_of=date(2025, 1, 1)).rows.to_pylist()

    january = sorted(
        (row["units_raw"], row["source_cell"], row["bid_ask_cell"], row["mid"], row["bid"], row["ask"])
        for row in rows
        if row["tenor_label"] == "2025-01"
    )

    assert january == [
        ("CAD/MWH", "C8", "C8", 45.5, 45.0, 46.0),
        ("CAD/MWH", "C8", "D8", 45.5, 46.5, 47.5),
        ("USD/MWH", "D8", "C8", 47.0, 45.0, 46.0),
        ("USD/MWH", "D8", "D8", 47.0, 46.5, 47.5),
    ]
    assert {row["bid_ask_sheet"] for row in rows if row["sheet_name"] == "Strips - Mid"} == {None}


def test_an_averaged_mid_has_no_mid_cell_and_rows_below_blank_rows_count_them() -> None:
    headers = [
        [],  # two blank rows on top
        [],
        ["ISO:", "", "PJM"],
        ["Market:", "", "DA"],
        ["Hours:", "", "ON_PEAK"],
        ["Location:", "", "West"],
        ["Units:", "", "$/MWh"],
    ]
    data = pw_workbook(
        headers,
        [["", MONTHS[0], 40.0], ["", MONTHS[1], None]],  # the second month's mid is blank
        bid_ask_rows=[["", MONTHS[0], "39.5 / 40.5"], ["", MONTHS[1], "41 / 43"]],
    )

    rows = parse_workbook(data, filename="EOD_PW_20250912_1430.xlsx").rows.to_pylist()

    assert [(row["tenor_label"], row["mid"], *(row[name] for name in CELL_COLUMNS)) for row in rows] == [
        ("2025-09", 40.0, "C8", "Fixed Prices - BidAsk", "C8"),
        ("2025-10", 42.0, None, "Fixed Prices - BidAsk", "C9"),
    ]


def test_derived_strips_are_in_no_cell() -> None:
    rows = parse_workbook(eod_files("EUGP")[-1]).rows

    strips = derived_strips(rows)

    assert strips.num_rows > 0
    assert {value for name in CELL_COLUMNS for value in strips.column(name).to_pylist()} == {None}


@pytest.mark.parametrize(
    ("index", "letters"),
    [
        (0, "A"),
        (2, "C"),
        (25, "Z"),
        (26, "AA"),
        (51, "AZ"),
        (52, "BA"),
        (701, "ZZ"),
        (702, "AAA"),
        (16383, "XFD"),
    ],
)
def test_column_letters(index: int, letters: str) -> None:
    assert column_letters(index) == letters


def test_a_negative_column_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        column_letters(-1)
