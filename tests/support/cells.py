"""An independent reader for test oracles: raw sheet XML via zipfile + ElementTree (no calamine, no parser).

It knows just enough of SpreadsheetML to list a sheet's cells as (row, column, value) with 1-based row and
column numbers; values are floats for numeric cells and str for text (shared, inline or formula strings).
"""

from __future__ import annotations

import re
import zipfile
from functools import lru_cache
from pathlib import Path
from xml.etree import ElementTree

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_REF = re.compile(r"([A-Z]+)(\d+)")
BID_ASK_TEXT = re.compile(r"^\s*-?[\d,]*\.?\d+\s*/\s*-?[\d,]*\.?\d+\s*$")

Cell = tuple[int, int, float | str]


def _column_number(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number


def _text(element: ElementTree.Element) -> str:
    return "".join(node.text or "" for node in element.iter(f"{_MAIN}t"))


@lru_cache(maxsize=256)
def sheet_cells(path: Path, sheet_name: str) -> tuple[Cell, ...]:
    """Return every non-empty cell of `sheet_name` in the workbook at `path`."""
    with zipfile.ZipFile(path) as archive:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{_PKG_REL}Relationship")}
        rel_id = next(
            sheet.get(f"{_REL}id")
            for sheet in workbook.iter(f"{_MAIN}sheet")
            if sheet.get("name") == sheet_name
        )
        target = targets[rel_id]
        member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        shared: list[str] = []
        if "xl/sharedStrings.xml" in archive.namelist():
            strings = ElementTree.fromstring(archive.read("xl/sharedStrings.xml"))
            shared = [_text(item) for item in strings.iter(f"{_MAIN}si")]
        sheet = ElementTree.fromstring(archive.read(member))
    cells: list[Cell] = []
    for cell in sheet.iter(f"{_MAIN}c"):
        match = _REF.fullmatch(cell.get("r", ""))
        if match is None:
            continue
        kind = cell.get("t", "n")
        value_node = cell.find(f"{_MAIN}v")
        raw = value_node.text if value_node is not None else None
        value: float | str
        if kind == "s" and raw is not None:
            value = shared[int(raw)]
        elif kind == "inlineStr":
            value = _text(cell)
        elif kind in ("str", "e") and raw is not None:
            value = raw
        elif kind == "n" and raw not in (None, ""):
            value = float(raw)  # type: ignore[arg-type]
        else:
            continue
        if value == "":
            continue
        cells.append((int(match.group(2)), _column_number(match.group(1)), value))
    return tuple(cells)


def count_price_cells(path: Path, sheet_name: str) -> int:
    """Count price cells right of column B: numbers on Mid sheets, `bid / ask` text on BidAsk sheets."""
    cells = sheet_cells(path, sheet_name)
    if "BidAsk" in sheet_name:
        return sum(
            1
            for _, column, value in cells
            if column >= 3 and isinstance(value, str) and BID_ASK_TEXT.match(value)
        )
    return sum(1 for _, column, value in cells if column >= 3 and isinstance(value, float))
