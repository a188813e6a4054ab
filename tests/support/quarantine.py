"""A real vendor workbook with quotes crossed on purpose, so that the validate stage holds their rows back
(``ask_ge_bid``): the rest of the workbook is the fixture as the vendor sent it."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import openpyxl

from tests.support.lake import eod

BID_ASK = "Fixed Prices - BidAsk"
CROSSED_DAY = date(2025, 7, 7)
# (column, row) of `bid / ask` cells of the EUGP 2025-07-07 workbook: C = Belgium, D = Dutch_TTF;
# row 13 = Aug-25, row 14 = Sep-25.
CROSSED_CELLS = ("C13", "D14", "C15")


def crossed_workbook(path: Path, cells: Sequence[str] = CROSSED_CELLS) -> bytes:
    """``path`` with the bid and ask of each of ``cells`` on the BidAsk sheet swapped (ask below bid)."""
    book = openpyxl.load_workbook(path)
    sheet = book[BID_ASK]
    for ref in cells:
        bid, ask = (part.strip() for part in str(sheet[ref].value).split("/"))
        sheet[ref].value = f"{ask}   /   {bid}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def crossed_eugp() -> tuple[Path, bytes]:
    path = eod("EUGP", CROSSED_DAY)
    return path, crossed_workbook(path)
