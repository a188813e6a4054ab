"""Generated workbooks, written with xlsxwriter: the real EUGP / RP / PW layouts for robustness and bad-input
tests, and hostile ones (parts replaced by hand-written XML) for the archive's limits."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from xml.etree import ElementTree

import xlsxwriter

Cell = str | int | float | bool | date | datetime | None

ASOF = date(2025, 9, 12)
MONTHS = [date(2025, 9, 1), date(2025, 10, 1), date(2025, 11, 1)]
SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


def write_workbook(
    sheets: Mapping[str, Sequence[Sequence[Cell]]], *, modified: datetime | None = None
) -> bytes:
    """The xlsx bytes of ``sheets`` (name -> rows, in order; a blank cell is None or ""). Dates are written
    as numbers in the built-in date format, so readers return dates. ``modified`` is the workbook's
    created/modified property (default: now)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.set_properties({"created": (modified or datetime.now(UTC)).astimezone(UTC)})
    date_format = book.add_format({"num_format": 14})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for row_index, row in enumerate(rows):
            for column, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, date):  # datetime included
                    day = (
                        value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
                    )
                    sheet.write_datetime(row_index, column, day, date_format)
                elif isinstance(value, bool):
                    sheet.write_boolean(row_index, column, value)
                elif isinstance(value, int | float):
                    sheet.write_number(row_index, column, value)
                else:
                    sheet.write_string(row_index, column, value)
    book.close()
    return buffer.getvalue()


def sheet_xml(body: str, *, before_data: str = "") -> bytes:
    """A worksheet part with ``body`` as its sheetData (``before_data``: elements such as ``<dimension>``)."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{SHEET_NS}">{before_data}'
        f"<sheetData>{body}</sheetData></worksheet>"
    ).encode()


def sheet_part(data: bytes, sheet_name: str) -> str:
    """The archive path of ``sheet_name``'s worksheet part."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iter(_PKG_REL)}
    rel_id = next(s.get(_REL) for s in workbook.iter(f"{{{SHEET_NS}}}sheet") if s.get("name") == sheet_name)
    target = targets[rel_id]
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def with_parts(data: bytes, parts: Mapping[str, bytes | Iterable[bytes]]) -> bytes:
    """``data`` with archive members replaced or added. A member given as an iterable of chunks is streamed
    into the archive, so a part of hundreds of MB never exists whole in the test's memory."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            if info.filename not in parts:
                target.writestr(info.filename, source.read(info.filename))
        for member, payload in parts.items():
            if isinstance(payload, bytes):
                target.writestr(member, payload)
                continue
            with target.open(member, "w", force_zip64=True) as out:
                for chunk in payload:
                    out.write(chunk)
    return buffer.getvalue()


def with_sheet_xml(data: bytes, sheets: Mapping[str, bytes | Iterable[bytes]]) -> bytes:
    """``data`` with the named sheets' XML replaced verbatim (for hostile-input tests)."""
    return with_parts(data, {sheet_part(data, name): xml for name, xml in sheets.items()})


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
    modified: datetime | None = None,
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
    return write_workbook(sheets, modified=modified)


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
    return write_workbook({"Fixed Prices - Mid": sheet})


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
    return write_workbook(sheets)
