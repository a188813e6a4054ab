"""Open an uploaded xlsx safely: size, ZIP and expansion limits are checked before calamine sees a byte.

calamine allocates every sheet as a dense grid, so one cell at `XFD1048576` in a 1 KB file makes it request
hundreds of GB and abort the whole process (not an exception). Declared ZIP sizes can also lie. So:

1. the file must fit `max_bytes`, start with the ZIP magic and hold `xl/workbook.xml`;
2. the declared uncompressed total must fit `max_uncompressed_bytes`;
3. every part calamine will read is inflated here by `zipfile`, which never yields more than the declared size
   and checks the CRC; the extent of each needed sheet is measured from its cell references and the summed
   dense size must fit `max_cells`;
4. calamine then opens a rebuilt, uncompressed archive holding exactly those verified parts (unneeded sheets
   are replaced by empty stubs), so it can never read more than was checked.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
from python_calamine import CalamineError, CalamineWorkbook

from apps.ingestion.parsers.errors import (
    CorruptWorkbookError,
    ExpansionLimitError,
    NotAnXlsxError,
    WorkbookNotFoundError,
    WorkbookTooLargeError,
)

Cell = str | int | float | bool | date | datetime | time | timedelta

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024
DEFAULT_MAX_CELLS = 2_000_000
MAX_ARCHIVE_MEMBERS = 10_000

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_WORKBOOK_PART = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_EMPTY_SHEET = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>'
)
_REF_WINDOW = 12
_EXCEL_MAX_ROWS = 1_048_576
_EXCEL_MAX_COLUMNS = 16_384
_ANY_CELL = re.compile(rb"<(?:\w+:)?c[\s/>]")
_ROW_END = re.compile(rb"</(?:\w+:)?row>")


@dataclass(frozen=True)
class Limits:
    """Upper bounds applied to one workbook."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES
    max_cells: int = DEFAULT_MAX_CELLS


def read_source(source: str | os.PathLike[str] | bytes, *, display_name: str, max_bytes: int) -> bytes:
    """Return the bytes of `source` (a path or the bytes themselves), refusing anything over `max_bytes`."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        path = Path(source)
        try:
            size = path.stat().st_size
            if size > max_bytes:
                raise _too_large(display_name, size, max_bytes)
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise WorkbookNotFoundError(f"{display_name}: file not found.", filename=display_name) from exc
        except OSError as exc:
            raise WorkbookNotFoundError(
                f"{display_name}: file cannot be read ({exc.strerror or exc}).", filename=display_name
            ) from exc
    if len(data) > max_bytes:
        raise _too_large(display_name, len(data), max_bytes)
    return data


def _too_large(name: str, size: int, limit: int) -> WorkbookTooLargeError:
    return WorkbookTooLargeError(
        f"{name} is {size / 1_048_576:.1f} MB; the limit is {limit / 1_048_576:.1f} MB.", filename=name
    )


def sheet_extent(xml: bytes) -> tuple[int, int]:
    """Return (rows, columns) bounding the dense grid calamine would allocate for this sheet XML (1-based).

    Vectorised over the raw bytes: every `r="..."` attribute (a cell reference like `NE83` or a row number) is
    decoded with numpy, so a sheet of 25k cells is measured in a few milliseconds.
    """
    data = np.frombuffer(xml, dtype=np.uint8)
    padded = np.concatenate([data, np.zeros(_REF_WINDOW + 4, dtype=np.uint8)])
    # Candidates are every `r`; keep those written as an attribute named exactly `r`: ` r="`.
    at = np.flatnonzero(data == ord("r"))
    at = at[at > 0]
    before = padded[at - 1]
    at = at[
        ((before == 0x20) | (before == 0x0A) | (before == 0x09) | (before == 0x0D))
        & (padded[at + 1] == ord("="))
        & (padded[at + 2] == ord('"'))
    ]
    window = padded[(at + 3)[:, None] + np.arange(_REF_WINDOW)].astype(np.int32)
    upper = window & ~np.int32(0x20)  # ASCII letters to upper case; digits are checked on `window`
    is_letter = (upper >= ord("A")) & (upper <= ord("Z"))
    is_letter[:, -1] = False  # sentinel, so argmin always finds the end of the run
    letters = np.argmin(is_letter, axis=1)
    in_ref = (window >= ord("0")) & (window <= ord("9")) | (np.arange(_REF_WINDOW) < letters[:, None])
    in_ref[:, -1] = False
    digits = np.argmin(in_ref, axis=1) - letters
    column = np.zeros(len(at), dtype=np.int64)
    row = np.zeros(len(at), dtype=np.int64)
    for k in range(_REF_WINDOW - 1):
        column = np.where(k < letters, column * 26 + (upper[:, k] - 64), column)
        row = np.where((k >= letters) & (k < letters + digits), row * 10 + (window[:, k] - 48), row)
    # A reference longer than the window decodes to a truncated number; count it as the sheet maximum instead.
    overflow = (letters > 3) | (digits > 7)
    column = np.where(overflow, _EXCEL_MAX_COLUMNS, column)
    row = np.where(overflow, _EXCEL_MAX_ROWS, row)
    max_row = int(row.max(initial=0))
    max_col = int(column.max(initial=0))
    # Cells without an `r` reference sit after their left neighbour, so the widest row bounds the width.
    cell_refs = int(np.count_nonzero((letters > 0) & (digits > 0)))
    cells = _count_cell_tags(data, padded)
    if cells > cell_refs:
        widest = max((_count_cells(chunk) for chunk in _ROW_END.split(xml)), default=0)
        max_col = max(max_col, widest)
        max_row = max(max_row, xml.count(b"<row") + xml.count(b":row"))
    return max_row, max_col


def _count_cell_tags(data: np.ndarray, padded: np.ndarray) -> int:
    """Count `<c ...>` tags, prefixed ones (`<x:c>`) included; a closing `</x:c>` also counts (an overcount
    only makes the width bound more conservative)."""
    at = np.flatnonzero(data == ord("c"))
    at = at[at > 0]
    before, after = padded[at - 1], padded[at + 1]
    opens = (before == ord("<")) | (before == ord(":"))
    ends = (after == 0x20) | (after == ord("/")) | (after == ord(">")) | (after == 0x0A) | (after == 0x09)
    return int(np.count_nonzero(opens & (ends | (after == 0x0D))))


def _count_cells(chunk: bytes) -> int:
    return len(_ANY_CELL.findall(chunk))


class SafeWorkbook:
    """A workbook whose archive passed every check; its sheets are read through calamine."""

    def __init__(
        self,
        data: bytes,
        *,
        name: str,
        limits: Limits,
        wanted_sheets: Callable[[Sequence[str]], Iterable[str]],
    ) -> None:
        """Check `data` and prepare the sheets that `wanted_sheets(sheet names)` picks."""
        self.name = name
        self._limits = limits
        archive = _open_zip(data, name, limits)
        try:
            self.sheet_names, targets = _sheet_targets(archive, name)
            wanted = {sheet for sheet in wanted_sheets(self.sheet_names) if sheet in self.sheet_names}
            missing = sorted(wanted - set(targets))
            if missing:
                raise CorruptWorkbookError(f"{name} is damaged: sheet {missing[0]!r} has no worksheet part.")
            self._extents: dict[str, tuple[int, int]] = {}
            rebuilt = self._rebuild(archive, targets, wanted)
        finally:
            archive.close()
        try:
            self._book = CalamineWorkbook.from_filelike(io.BytesIO(rebuilt))
        except (CalamineError, ValueError, OverflowError) as exc:
            raise CorruptWorkbookError(
                f"{name} could not be read as a workbook: {exc}.", filename=name
            ) from exc

    def _rebuild(self, archive: zipfile.ZipFile, targets: dict[str, str], wanted: set[str]) -> bytes:
        wanted_parts = {targets[sheet]: sheet for sheet in wanted}
        stub_parts = set(targets.values()) - set(wanted_parts)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as out:
            for info in archive.infolist():
                member = info.filename
                if info.is_dir() or not member.endswith((".xml", ".rels")):
                    continue
                if member in stub_parts:
                    out.writestr(member, _EMPTY_SHEET)
                    continue
                payload = _read_member(archive, member, self.name)
                if member in wanted_parts:
                    self._extents[wanted_parts[member]] = sheet_extent(payload)
                out.writestr(member, payload)
        total = sum(rows * cols for rows, cols in self._extents.values())
        if total > self._limits.max_cells:
            largest = max(self._extents, key=lambda sheet: self._extents[sheet][0] * self._extents[sheet][1])
            rows, cols = self._extents[largest]
            raise ExpansionLimitError(
                f"{self.name} would expand to {total:,} cells (sheet {largest!r} spans {rows:,} rows x "
                f"{cols:,} columns); the limit is {self._limits.max_cells:,}.",
                filename=self.name,
            )
        return buffer.getvalue()

    def rows(self, sheet_name: str) -> list[list[Cell]]:
        """Return the cells of `sheet_name` from A1 (leading blank rows and columns kept), row by row."""
        if sheet_name not in self._extents:
            raise KeyError(f"sheet {sheet_name!r} was not prepared")
        try:
            sheet = self._book.get_sheet_by_name(sheet_name)
            return sheet.to_python(skip_empty_area=False)
        except (CalamineError, ValueError, OverflowError) as exc:
            raise CorruptWorkbookError(
                f"{self.name}: sheet {sheet_name!r} could not be read: {exc}.", filename=self.name
            ) from exc

    def close(self) -> None:
        """Release calamine's buffers."""
        self._book.close()


def _open_zip(data: bytes, name: str, limits: Limits) -> zipfile.ZipFile:
    if not data:
        raise NotAnXlsxError(f"{name} is empty (0 bytes).", filename=name)
    if data.startswith(_OLE_MAGIC):
        raise NotAnXlsxError(
            f"{name} is a legacy .xls or a password-protected workbook; save it as an unprotected .xlsx.",
            filename=name,
        )
    if not data.startswith(_ZIP_MAGIC):
        raise NotAnXlsxError(f"{name} is not an .xlsx workbook (it is not a ZIP archive).", filename=name)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise CorruptWorkbookError(
            f"{name} is damaged or truncated ({exc}); upload the original file again.", filename=name
        ) from exc
    infos = archive.infolist()
    if len(infos) > MAX_ARCHIVE_MEMBERS:
        raise ExpansionLimitError(f"{name} holds {len(infos):,} archive members.", filename=name)
    if _WORKBOOK_PART not in archive.NameToInfo:
        raise NotAnXlsxError(f"{name} is a ZIP archive but not an Excel workbook.", filename=name)
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_uncompressed_bytes:
        raise ExpansionLimitError(
            f"{name} would expand to {declared / 1_048_576:,.1f} MB; the limit is "
            f"{limits.max_uncompressed_bytes / 1_048_576:,.1f} MB.",
            filename=name,
        )
    if any(info.flag_bits & 0x1 for info in infos):
        raise NotAnXlsxError(f"{name} is encrypted; save it without a password.", filename=name)
    return archive


def _read_member(archive: zipfile.ZipFile, member: str, name: str) -> bytes:
    try:
        return archive.read(member)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, ValueError) as exc:
        raise CorruptWorkbookError(
            f"{name} is damaged: part {member} is unreadable ({exc}).", filename=name
        ) from exc


def _sheet_targets(archive: zipfile.ZipFile, name: str) -> tuple[list[str], dict[str, str]]:
    """Return the sheet names in workbook order and each sheet's archive part."""
    workbook = _parse_xml(_read_member(archive, _WORKBOOK_PART, name), name)
    rels_xml = _read_member(archive, _WORKBOOK_RELS, name) if _WORKBOOK_RELS in archive.NameToInfo else b""
    rels = _parse_xml(rels_xml, name) if rels_xml else None
    relationship_targets: dict[str, str] = {}
    if rels is not None:
        for element in rels.iter():
            if _local(element.tag) == "Relationship":
                target = element.get("Target", "")
                part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                relationship_targets[element.get("Id", "")] = os.path.normpath(part).replace(os.sep, "/")
    names: list[str] = []
    targets: dict[str, str] = {}
    for element in workbook.iter():
        if _local(element.tag) != "sheet":
            continue
        sheet_name = element.get("name", "")
        rel_id = next((value for key, value in element.attrib.items() if _local(key) == "id"), "")
        names.append(sheet_name)
        sheet_part = relationship_targets.get(rel_id)
        if sheet_part is not None and sheet_part in archive.NameToInfo:
            targets[sheet_name] = sheet_part
    return names, targets


def _parse_xml(data: bytes, name: str) -> ElementTree.Element:
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise CorruptWorkbookError(f"{name} contains XML entity declarations, which workbooks never need.")
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise CorruptWorkbookError(f"{name} is damaged: {exc}.", filename=name) from exc


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
