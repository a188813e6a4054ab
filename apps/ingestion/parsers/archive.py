"""Open an uploaded xlsx safely: size, ZIP and expansion limits are checked before calamine sees a byte.

calamine allocates every sheet as a dense grid, so one cell at `XFD1048576` in a 1 KB file makes it request
hundreds of GB and abort the whole process (not an exception). Declared ZIP sizes can also lie. So:

1. the file must fit `max_bytes`, start with the ZIP magic and hold `xl/workbook.xml`;
2. the declared uncompressed total must fit `max_uncompressed_bytes`;
3. the extent of each needed sheet is measured by streaming its XML out of `zipfile` (which never yields more
   than the declared size and checks the CRC) in bounded memory (`extent`), and the summed dense size must fit
   `max_cells`; a poison sheet is refused after its first chunk;
4. calamine then opens a rebuilt, uncompressed archive holding exactly the checked parts, copied chunk by
   chunk (unneeded sheets are replaced by empty stubs), so it can never read more than was checked.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import IO
from xml.etree import ElementTree

from python_calamine import CalamineError, CalamineWorkbook

from apps.ingestion.parsers.errors import (
    CorruptWorkbookError,
    ExpansionLimitError,
    NotAnXlsxError,
    WorkbookNotFoundError,
    WorkbookTooLargeError,
)
from apps.ingestion.parsers.extent import CHUNK_BYTES, Extent, UnsafeSheetError, sheet_extent

Cell = str | int | float | bool | date | datetime | time | timedelta

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024
DEFAULT_MAX_CELLS = 2_000_000
MAX_ARCHIVE_MEMBERS = 10_000
DEFAULT_MAX_SHARED_STRINGS = 500_000  # the real workbooks hold at most 24,735
DEFAULT_MAX_SHEET_BYTES = 64 * 1024 * 1024  # of one sheet's XML (the real workbooks' largest: 1.2 MB)
MAX_PART_BYTES = 16 * 1024 * 1024  # any XML part but a sheet (the real workbooks' largest: 0.9 MB)

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_WORKBOOK_PART = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_CORE_PROPERTIES = "docProps/core.xml"
_MAX_CORE_PROPERTIES_BYTES = 64 * 1024
_DCTERMS_MODIFIED = "{http://purl.org/dc/terms/}modified"
_EMPTY_SHEET = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>'
)
_ZIP_READ_ERRORS = (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, ValueError)


@dataclass(frozen=True)
class Limits:
    """Upper bounds applied to one workbook."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES
    max_cells: int = DEFAULT_MAX_CELLS
    max_shared_strings: int = DEFAULT_MAX_SHARED_STRINGS
    max_sheet_bytes: int = DEFAULT_MAX_SHEET_BYTES


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


class SafeWorkbook:
    """A workbook whose archive passed every check; its sheets are read through calamine.

    ``modified`` is the workbook's own last-modified time (``docProps/core.xml``), or None.
    """

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
            picked = dict.fromkeys(wanted_sheets(self.sheet_names))
            wanted = [sheet for sheet in picked if sheet in self.sheet_names]
            missing = sorted(set(wanted) - set(targets))
            if missing:
                raise CorruptWorkbookError(f"{name} is damaged: sheet {missing[0]!r} has no worksheet part.")
            self.modified = _core_modified(archive)
            rebuilt, self._extents = self._rebuild(
                archive, {targets[sheet]: sheet for sheet in wanted}, set(targets.values())
            )
        finally:
            archive.close()
        try:
            self._book = CalamineWorkbook.from_filelike(io.BytesIO(rebuilt))
        except (CalamineError, ValueError, OverflowError) as exc:
            raise CorruptWorkbookError(
                f"{name} could not be read as a workbook: {exc}.", filename=name
            ) from exc

    def _rebuild(
        self, archive: zipfile.ZipFile, wanted: dict[str, str], sheet_parts: set[str]
    ) -> tuple[bytes, dict[str, Extent]]:
        """An uncompressed copy of the XML parts calamine reads, unwanted sheets replaced by empty stubs, and
        the extent of each wanted sheet (``wanted``: part -> sheet name), measured before it is copied.

        Parts are copied chunk by chunk. A sheet must fit ``max_sheet_bytes`` and is refused as soon as the
        running total passes the cell limit; any other part must fit MAX_PART_BYTES, and the shared strings
        (which calamine loads whole, ~40 bytes of overhead each) ``max_shared_strings``.
        """
        extents: dict[str, Extent] = {}
        copied: set[str] = set()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as out:
            for info in archive.infolist():
                member = info.filename
                if info.is_dir() or not member.endswith((".xml", ".rels")) or member in copied:
                    continue
                copied.add(member)
                if member in sheet_parts and member not in wanted:
                    out.writestr(member, _EMPTY_SHEET)
                    continue
                try:
                    if member in wanted:  # measured first: a poison sheet is refused before it is copied
                        extents[wanted[member]] = self._measure(archive, info, wanted[member], extents)
                    with out.open(member, "w") as target:
                        self._copy_part(archive, info, target, sheet=member in wanted)
                except _ZIP_READ_ERRORS as exc:
                    raise CorruptWorkbookError(
                        f"{self.name} is damaged: part {member} is unreadable ({exc}).", filename=self.name
                    ) from exc
        return buffer.getvalue(), extents

    def _measure(
        self,
        archive: zipfile.ZipFile,
        info: zipfile.ZipInfo,
        sheet: str,
        measured: dict[str, Extent],
    ) -> Extent:
        """Measure one sheet, streamed; refuse it once the running total is over the limit."""
        if info.file_size > self._limits.max_sheet_bytes:
            raise ExpansionLimitError(
                f"{self.name}: sheet {sheet!r} is {info.file_size:,} bytes of XML; the limit is "
                f"{self._limits.max_sheet_bytes:,}.",
                filename=self.name,
            )
        limit = self._limits.max_cells
        before = sum(extent.cells for extent in measured.values())
        try:
            extent = sheet_extent(partial(archive.open, info), budget=max(limit - before, 0))
        except UnsafeSheetError as exc:
            raise CorruptWorkbookError(
                f"{self.name}: sheet {sheet!r} cannot be read safely: {exc}.", filename=self.name
            ) from exc
        if extent.cell_tags > limit:
            raise ExpansionLimitError(
                f"{self.name}: sheet {sheet!r} holds more than {limit:,} cell tags; the limit is {limit:,} "
                "cells.",
                filename=self.name,
            )
        if before + extent.cells > limit:
            raise ExpansionLimitError(
                f"{self.name} would expand to {before + extent.cells:,} cells (sheet {sheet!r} spans "
                f"{extent.rows:,} rows x {extent.columns:,} columns); the limit is {limit:,}.",
                filename=self.name,
            )
        return extent

    def _copy_part(
        self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: IO[bytes], *, sheet: bool
    ) -> None:
        if not sheet and info.file_size > MAX_PART_BYTES:
            raise ExpansionLimitError(
                f"{self.name}: part {info.filename} is {info.file_size:,} bytes; the limit is "
                f"{MAX_PART_BYTES:,}.",
                filename=self.name,
            )
        shared_strings = info.filename.lower().endswith("sharedstrings.xml")
        with archive.open(info) as source:
            strings, declares = _copy_counting(source, target, b"si" if shared_strings else None)
        if declares and info.filename.lower().endswith((".xml", ".rels")):
            # calamine would refuse the part with a message nobody can act on ("Cannot detect file format").
            raise CorruptWorkbookError(
                f"{self.name}: part {info.filename} contains XML entity declarations, which workbooks never "
                "need.",
                filename=self.name,
            )
        limit = self._limits.max_shared_strings
        if strings > limit:
            raise ExpansionLimitError(
                f"{self.name} holds {strings:,} shared strings; the limit is {limit:,}.", filename=self.name
            )

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


def _copy_counting(source: IO[bytes], target: IO[bytes], tag: bytes | None) -> tuple[int, bool]:
    """Copy ``source`` to ``target`` in chunks; return how many ``<tag>`` / ``<tag ...>`` elements passed
    (prefixed ones counted with their end tags too: an overcount, never an undercount; 0 without a tag)
    and whether a ``<!DOCTYPE`` or ``<!ENTITY`` declaration passed."""
    count, tail, declares = 0, b"", False
    forms = (b"<" + tag + b">", b"<" + tag + b" ", b":" + tag + b">", b":" + tag + b" ") if tag else ()
    while chunk := source.read(CHUNK_BYTES):
        target.write(chunk)
        window = tail + chunk
        # A form (4 bytes) or a declaration (9) cut by the chunk boundary is found in the next window; the
        # forms are counted from three bytes before the chunk (as before), so never twice.
        count += sum(window[max(len(tail) - 3, 0) :].count(form) for form in forms)
        declares = declares or b"<!DOCTYPE" in window or b"<!ENTITY" in window
        tail = window[-8:]
    return count, declares


def _core_modified(archive: zipfile.ZipFile) -> datetime | None:
    """``dcterms:modified`` of ``docProps/core.xml`` in UTC, or None (absent, oversized or unreadable)."""
    info = archive.NameToInfo.get(_CORE_PROPERTIES)
    if info is None or info.file_size > _MAX_CORE_PROPERTIES_BYTES:
        return None
    try:
        data = archive.read(info)
        root = _parse_xml(data, archive.filename or "workbook")
    except (*_ZIP_READ_ERRORS, CorruptWorkbookError):
        return None  # the time stamp is optional; the parts the prices come from are checked on their own
    element = root.find(_DCTERMS_MODIFIED)
    text = (element.text or "").strip() if element is not None else ""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


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
    if any(info.filename.lower().endswith("vbaproject.bin") for info in infos):
        raise NotAnXlsxError(
            f"{name} holds VBA macros (a macro-enabled .xlsm workbook); vendor EOD workbooks carry none: "
            "save it as a plain .xlsx.",
            filename=name,
        )
    return archive


def archive_check(data: bytes, *, name: str, limits: Limits) -> None:
    """The archive checks alone (ZIP, workbook part, member count, declared expansion, no encryption or
    macros), without reading a sheet: cheap enough to answer an upload with."""
    _open_zip(data, name, limits).close()


def _read_member(archive: zipfile.ZipFile, member: str, name: str) -> bytes:
    """A part read whole to parse as a tree: refused over MAX_PART_BYTES."""
    size = archive.getinfo(member).file_size
    if size > MAX_PART_BYTES:
        raise ExpansionLimitError(
            f"{name}: part {member} is {size:,} bytes; the limit is {MAX_PART_BYTES:,}.", filename=name
        )
    try:
        return archive.read(member)
    except _ZIP_READ_ERRORS as exc:
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
