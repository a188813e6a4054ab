"""The cells of a workbook as openpyxl reads them: an independent check of the references the parsers
record (openpyxl shares no code with calamine or the parsers)."""

from __future__ import annotations

from pathlib import Path

import openpyxl


def workbook_cells(path: Path) -> dict[tuple[str, str], object]:
    """(sheet, A1 reference) -> value of every non-blank cell (stored values, not formulas)."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return {
            (sheet.title, cell.coordinate): cell.value
            for sheet in book.worksheets
            for row in sheet.iter_rows()
            for cell in row
            if cell.value is not None
        }
    finally:
        book.close()


def bid_ask_quote(text: object) -> tuple[float, float]:
    """A vendor `bid / ask` cell as (bid, ask), parsed here without the parsers' code."""
    assert isinstance(text, str), text
    bid, ask = text.split("/")
    return float(bid.replace(",", "")), float(ask.replace(",", ""))
