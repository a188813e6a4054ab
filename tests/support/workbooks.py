"""Generated vendor workbooks in the real EUGP / RP / PW layouts, for robustness and bad-input tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from apps.ingestion.xlsx_writer import Cell, write_xlsx

ASOF = date(2025, 9, 12)
MONTHS = [date(2025, 9, 1), date(2025, 10, 1), date(2025, 11, 1)]


def real_layout_sheet(
    headers: Sequence[tuple[str, Sequence[Cell]]],
    tenors: Sequence[Cell],
    values: Sequence[Sequence[Cell]],
    *,
    marker: str,
    asof: Cell = ASOF,
    unlabelled_above: Sequence[Cell] | None = None,
) -> list[list[Cell]]:
    """Rows of a sheet in the real EUGP/RP layout.

    4 blank rows, the `Date:` row, header rows (label in column B), a blank row, the marker row (`Mid` or
    `Bid   /   Ask`), a blank row, then one row per tenor (`values[tenor][curve]`).
    """
    width = len(values[0]) if values else len(headers[0][1])
    rows: list[list[Cell]] = [[], [], [], [], ["Date:", asof]]
    if unlabelled_above is not None:
        rows.append(["", "", *unlabelled_above])
    rows.extend(["", label, *cells] for label, cells in headers)
    rows.append([])
    rows.append(["", "", *([marker] * width)])
    rows.append([])
    rows.extend(["", tenor, *row] for tenor, row in zip(tenors, values, strict=True))
    return rows


def eugp_workbook(
    *,
    locations: Sequence[str] = ("EU", "UK"),
    products: Sequence[str] = ("Dutch_TTF", "NBP"),
    blocks: Sequence[str] = ("NA", "NA"),
    mids: Sequence[Sequence[Cell]] | None = None,
    bid_asks: Sequence[Sequence[Cell]] | None = None,
    tenors: Sequence[Cell] = MONTHS,
    asof: Cell = ASOF,
    extra_sheets: dict[str, list[list[Cell]]] | None = None,
) -> bytes:
    """An EUGP workbook with a Fixed Prices Mid/BidAsk pair; values default to 30 + column + tenor/10."""
    width = len(products)
    mids = mids or [[30.0 + column + tenor / 10 for column in range(width)] for tenor in range(len(tenors))]
    bid_asks = bid_asks or [
        [f"{value - 0.1:.3f}   /   {value + 0.1:.3f}" if isinstance(value, float) else "" for value in row]
        for row in mids
    ]
    headers = [("Location", locations), ("Product", products), ("PEAK", blocks)]
    sheets: dict[str, Any] = {
        "Fixed Prices - Mid": real_layout_sheet(headers, tenors, mids, marker="Mid", asof=asof),
        "Fixed Prices - BidAsk": real_layout_sheet(
            headers, tenors, bid_asks, marker="Bid   /   Ask", asof=asof
        ),
    }
    sheets.update(extra_sheets or {})
    return write_xlsx(None, sheets)


def rp_workbook(
    *,
    regions: Sequence[str] = ("US", "AP"),
    locations: Sequence[str] = ("East Coast", "Japan"),
    products: Sequence[str] = ("Maryland Solar Renewable Energy Credit", "Japan Korea LNG"),
) -> bytes:
    """An RP workbook with one Fixed Prices Mid sheet (region row above Location)."""
    mids = [[20.0 + column + tenor for column in range(len(products))] for tenor in range(len(MONTHS))]
    headers = [("Location", locations), ("Product", products)]
    sheet = real_layout_sheet(headers, MONTHS, mids, marker="Mid", unlabelled_above=regions)
    return write_xlsx(None, {"Fixed Prices - Mid": sheet})


def pw_workbook(
    header_rows: Sequence[Sequence[Cell]],
    data_rows: Sequence[Sequence[Cell]],
    *,
    bid_ask_rows: Sequence[Sequence[Cell]] | None = None,
    sheet: str = "Fixed Prices - Mid",
) -> bytes:
    """A workbook in the golden PW layout: label in column A, tenor in column B, values from column C."""
    sheets: dict[str, Any] = {sheet: [*header_rows, *data_rows]}
    if bid_ask_rows is not None:
        sheets[sheet.replace("Mid", "BidAsk")] = [*header_rows, *bid_ask_rows]
    return write_xlsx(None, sheets)
