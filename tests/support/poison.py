"""Poison workbooks: small files whose sheets would make a reader allocate without bound. Built by streaming
the sheet XML into the archive, so the test process never holds it whole (tests and bench/ use them)."""

from __future__ import annotations

from collections.abc import Iterator
from random import Random

from tests.support.workbooks import SHEET_NS, eugp_workbook, with_parts, with_sheet_xml, write_workbook

MID = "Fixed Prices - Mid"


def _sheet_stream(rows: Iterator[bytes]) -> Iterator[bytes]:
    yield f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{SHEET_NS}"><sheetData>'.encode()
    yield from rows
    yield b"</sheetData></worksheet>"


def _poison(rows: Iterator[bytes]) -> bytes:
    return with_sheet_xml(write_workbook({MID: []}), {MID: _sheet_stream(rows)})


def _far_cells(megabytes: int) -> bytes:
    row = b'<row r="1">' + b'<c r="XFD1048576"/>' * 100 + b"</row>"
    return _poison(row * 100 for _ in range(megabytes * 1024 * 1024 // len(row) // 100))


def empty_cell_flood() -> bytes:
    """~0.5 MB of xlsx: 150 MB of ``<c r="XFD1048576"/>``, 8 million empty cell tags in one sheet."""
    return _far_cells(150)


def far_cell_flood() -> bytes:
    """60 MB of ``<c r="XFD1048576"/>`` (a sheet under the size limit: its extent refuses it)."""
    return _far_cells(60)


def far_cell_last() -> bytes:
    """~0.5 MB of xlsx: 120,000 cells scattered over A1:ZZ2000, then one at XFD1048576 at the very end (the
    whole sheet is read before the extent is known)."""
    random = Random(9)

    def rows() -> Iterator[bytes]:
        for number in range(1, 1201):
            cells = (
                f'<c r="{_column(random.randrange(1, 703))}{random.randrange(1, 2001)}"/>' for _ in range(100)
            )
            yield f'<row r="{number}">{"".join(cells)}</row>'.encode()
        yield b'<row r="1048576"><c r="XFD1048576"/></row>'

    return _poison(rows())


def _column(number: int) -> str:
    letters = ""
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def tag_flood() -> bytes:
    """2.1 million tags of cell A1: a 1 x 1 grid, but more tags than the 2,000,000 cells allowed."""
    return _poison(b'<row r="1">' + b'<c r="A1"/>' * 1000 + b"</row>" for _ in range(2100))


def unaddressed_flood() -> bytes:
    """Cells without references: one row 16,384 cells wide, then 400,000 empty rows."""
    wide = b"<row>" + b"<c/>" * 16_384 + b"</row>"
    return _poison(iter([wide, *[b"<row/>" * 1000] * 400]))


def shared_strings_flood() -> bytes:
    """An EUGP workbook whose shared-string table holds 600,000 strings (calamine loads it whole)."""
    strings = (b"<si><t>a</t></si>" * 1000 for _ in range(600))
    sst = iter([f'<sst xmlns="{SHEET_NS}">'.encode(), *strings, b"</sst>"])
    return with_parts(eugp_workbook(), {"xl/sharedStrings.xml": sst})


POISONS = {
    "empty-cell-flood": empty_cell_flood,
    "far-cell-flood": far_cell_flood,
    "far-cell-last": far_cell_last,
    "tag-flood": tag_flood,
    "unaddressed-flood": unaddressed_flood,
    "shared-strings-flood": shared_strings_flood,
}
