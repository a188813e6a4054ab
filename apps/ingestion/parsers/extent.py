"""How large a grid calamine would allocate for a sheet, measured from its XML in bounded memory.

calamine allocates a sheet as one dense grid from A1 to the furthest cell, so the furthest cell must be known
before calamine sees the sheet. The XML is read from the archive in chunks of ``CHUNK_BYTES`` and never held
whole; the measure stops as soon as the sheet alone is over the caller's budget (a poison sheet of a million
``<c r="XFD1048576"/>`` tags is refused after its first chunk).

Two readers:

- the fast one decodes every ``r="..."`` reference of a chunk at once with numpy. It is exact for the XML
  every spreadsheet writer produces: each cell tag carries one plain ``r="A1"`` reference;
- anything else (a cell without a reference, a reference quoted with apostrophes, a tag name the fast reader
  cannot see whole) switches to a streaming expat reader that places cells as a reader of the spec would, and
  takes the larger of the possible positions when the XML leaves room for doubt.

A worksheet holding ``<!`` (a DOCTYPE, an entity, a comment or a CDATA section) is refused: spreadsheet
writers never produce one, and each could hide markup from the fast reader.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO
from xml.parsers import expat

import numpy as np

CHUNK_BYTES = 256 * 1024
MAX_RUN_BYTES = 1024 * 1024  # one tag or text run; a cell holds at most 32,767 characters
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384

_REF_WINDOW = 12  # letters (≤ 3) + digits (≤ 7) + the closing quote fit; longer means malformed
_NAME_WINDOW = 40  # a tag name longer than this (none in SpreadsheetML) sends the sheet to the careful reader
_PAD = _REF_WINDOW + _NAME_WINDOW + 8
_COLUMNS = np.arange(_REF_WINDOW)
_QUOTE, _APOSTROPHE, _LT, _GT = ord('"'), ord("'"), ord("<"), ord(">")
_SPACE = np.zeros(256, dtype=bool)  # lookup tables: _SPACE[byte] is True for XML white space
_SPACE[[0x20, 0x0A, 0x09, 0x0D]] = True
_NAME_END = _SPACE.copy()  # what ends a tag name
_NAME_END[[ord("/"), _GT]] = True
_REF = re.compile(r"\s*([A-Za-z]{0,3})(\d{0,7})\s*")


class UnsafeSheetError(Exception):
    """The sheet XML is of a kind no spreadsheet writer produces (``<!``, a run over MAX_RUN_BYTES)."""


@dataclass(frozen=True)
class Extent:
    """The grid calamine would allocate: ``rows`` x ``columns`` from A1; ``cell_tags`` as counted."""

    rows: int
    columns: int
    cell_tags: int = 0

    @property
    def cells(self) -> int:
        return self.rows * self.columns

    def over(self, budget: int) -> bool:
        return self.cells > budget or self.cell_tags > budget


def sheet_extent(open_stream: Callable[[], IO[bytes]], *, budget: int) -> Extent:
    """Measure the sheet that ``open_stream()`` yields; stop early once it alone is over ``budget`` cells.

    ``open_stream`` is called once, or twice when the sheet needs the careful reader.
    """
    fast = _FastReader()
    with open_stream() as stream:
        while fast.usual:
            chunk = stream.read(CHUNK_BYTES)
            fast.feed(chunk, final=not chunk)
            if not chunk or fast.extent.over(budget):
                break
    if fast.usual or fast.extent.over(budget):
        return fast.extent
    careful = _CarefulReader()
    with open_stream() as stream:
        while chunk := stream.read(CHUNK_BYTES):
            careful.feed(chunk)
            if careful.extent.over(budget):
                return careful.extent
    careful.finish()
    return careful.extent


class _FastReader:
    """numpy over whole tags: each buffer is cut before its last ``<``, so no tag spans two buffers."""

    def __init__(self) -> None:
        self.max_row = self.max_col = self.cell_tags = 0
        self.usual = True
        self._carry = b""

    @property
    def extent(self) -> Extent:
        return Extent(self.max_row, self.max_col, self.cell_tags)

    def feed(self, chunk: bytes, *, final: bool) -> None:
        buffer = self._carry + chunk
        cut = len(buffer) if final else buffer.rfind(b"<")
        if cut <= 0:  # no tag starts after the first byte yet
            if len(buffer) > MAX_RUN_BYTES:
                raise UnsafeSheetError(f"a single tag or text run is over {MAX_RUN_BYTES:,} bytes")
            self._carry = buffer
            return
        self._carry = buffer[cut:]
        self._scan(buffer[:cut])

    def _scan(self, part: bytes) -> None:
        data = np.frombuffer(part, dtype=np.uint8)
        padded = np.concatenate([data, np.zeros(_PAD, dtype=np.uint8)])
        starts = np.flatnonzero(data == _LT)
        if np.any(padded[starts + 1] == ord("!")):
            raise UnsafeSheetError("it holds a DOCTYPE, comment or CDATA section")
        cells, unknown = _cell_tags(padded, starts)
        self.cell_tags += len(cells) + int(np.count_nonzero(unknown))
        refs, rows, columns, addresses = _references(data, padded)
        if len(refs):
            self.max_row = max(self.max_row, int(rows.max()))
            self.max_col = max(self.max_col, int(columns.max()))
        if np.any(unknown) or not _every_cell_addressed(data, cells, refs[addresses]):
            self.usual = False


def _cell_tags(padded: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``<c`` / ``<prefix:c`` start tags, and a mask of the tags whose name is longer than
    _NAME_WINDOW (the careful reader then decides)."""
    opening = starts[padded[starts + 1] != ord("/")]
    one_letter = _NAME_END[padded[opening + 2]]
    cells = opening[one_letter & (padded[opening + 1] == ord("c"))]
    longer = opening[~one_letter]  # <row, <sheetData, ...: a cell only as <prefix:c
    window = padded[(longer + 1)[:, None] + np.arange(_NAME_WINDOW)]
    ends = _NAME_END[window]
    named = ends.any(axis=1)
    end = np.argmax(ends, axis=1)
    rows = np.arange(len(longer))
    prefixed = (
        named
        & (end >= 2)
        & (window[rows, np.maximum(end - 1, 0)] == ord("c"))
        & (window[rows, np.maximum(end - 2, 0)] == ord(":"))
    )
    return np.sort(np.concatenate([cells, longer[prefixed]])), ~named


def _references(
    data: np.ndarray, padded: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every `` r="..."`` attribute: (positions, rows, columns, mask of proper cell references like ``B7``).

    A value that is no cell or row reference (too long, unterminated) counts as the sheet's last cell: only a
    hand-made file has one, and it is then refused rather than trusted.
    """
    at = np.flatnonzero(data == ord("r"))
    at = at[(padded[at + 1] == ord("=")) & (padded[at + 2] == _QUOTE)]
    at = at[(at > 0) & _SPACE[padded[at - 1]]]
    window = padded[(at + 3)[:, None] + _COLUMNS].astype(np.int32)
    upper = window & ~np.int32(0x20)  # ASCII letters to upper case; digits are checked on `window`
    is_letter = (upper >= ord("A")) & (upper <= ord("Z"))
    is_letter[:, -1] = False
    letters = np.argmin(is_letter, axis=1)
    in_letters = _COLUMNS < letters[:, None]
    is_digit = (window >= ord("0")) & (window <= ord("9")) & ~in_letters
    is_digit[:, -1] = False
    digits = np.argmin(is_digit | in_letters, axis=1) - letters
    column = np.zeros(len(at), dtype=np.int64)
    row = np.zeros(len(at), dtype=np.int64)
    longest = int((letters + digits).max(initial=0))
    for k in range(min(longest, _REF_WINDOW - 1)):  # a longer run is malformed (well_formed below)
        if k < 3:
            column = np.where(k < letters, column * 26 + (upper[:, k] - 64), column)
        row = np.where((k >= letters) & (k < letters + digits), row * 10 + (window[:, k] - 48), row)
    closed = window[np.arange(len(at)), letters + digits] == _QUOTE
    well_formed = closed & (letters <= 3) & (digits <= 7) & ((digits > 0) | (letters == 0))
    column = np.where(well_formed, column, EXCEL_MAX_COLUMNS)
    row = np.where(well_formed, row, EXCEL_MAX_ROWS)
    return at, row, column, well_formed & (letters > 0) & (digits > 0)


def _every_cell_addressed(data: np.ndarray, cells: np.ndarray, addresses: np.ndarray) -> bool:
    """True when each cell tag holds exactly one proper reference and no apostrophe (which could quote a
    fake one) before its first ``>``."""
    if not len(cells):
        return True
    closes = np.flatnonzero(data == _GT)
    at_close = np.searchsorted(closes, cells)
    if np.any(at_close >= len(closes)):
        return False
    ends = closes[at_close]
    per_cell = np.searchsorted(addresses, ends) - np.searchsorted(addresses, cells)
    if not np.all(per_cell == 1):
        return False
    apostrophes = np.flatnonzero(data == _APOSTROPHE)
    return not np.any(np.searchsorted(apostrophes, ends) - np.searchsorted(apostrophes, cells))


class _CarefulReader:
    """expat, chunk by chunk: places every cell as the spec says, the larger position where in doubt."""

    def __init__(self) -> None:
        self.max_row = self.max_col = self.cell_tags = 0
        self._row = self._rows_seen = self._col = self._cells_in_row = 0
        self._parser = expat.ParserCreate()
        self._parser.StartElementHandler = self._start
        self._parser.StartDoctypeDeclHandler = self._refuse
        self._parser.CommentHandler = self._refuse
        self._parser.StartCdataSectionHandler = self._refuse

    @property
    def extent(self) -> Extent:
        return Extent(self.max_row, self.max_col, self.cell_tags)

    def feed(self, chunk: bytes) -> None:
        self._parse(chunk, final=False)

    def finish(self) -> None:
        self._parse(b"", final=True)

    def _parse(self, chunk: bytes, *, final: bool) -> None:
        try:
            self._parser.Parse(chunk, final)
        except expat.ExpatError as exc:
            raise UnsafeSheetError(f"its XML is malformed ({exc})") from exc

    def _refuse(self, *args: object) -> None:
        raise UnsafeSheetError("it holds a DOCTYPE, comment or CDATA section")

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        local = name[name.rfind(":") + 1 :]
        if local == "c":
            self.cell_tags += 1
            self._cells_in_row += 1
            ref = attributes.get("r")
            if ref:
                row, col = _position(ref)
            else:  # after its left neighbour (or after as many cells as the row has so far, if further)
                row, col = self._row or 1, self._col + 1
                if col < self._cells_in_row:
                    col = self._cells_in_row
            self._col = col
            if row > self.max_row:
                self.max_row = row
            if col > self.max_col:
                self.max_col = col
        elif local == "row":
            self._rows_seen += 1
            number = _REF.fullmatch(attributes.get("r", ""))
            given = int(number.group(2)) if number and number.group(2) and not number.group(1) else 0
            self._row = max(given, self._row + 1, self._rows_seen)
            self._col = self._cells_in_row = 0
            self.max_row = max(self.max_row, self._row)


def _position(ref: str) -> tuple[int, int]:
    """(row, column) of a reference such as ``B7``; anything else counts as the sheet's last cell."""
    match = _REF.fullmatch(ref)
    if match is None or not match.group(1) or not match.group(2):
        return EXCEL_MAX_ROWS, EXCEL_MAX_COLUMNS
    column = 0
    for letter in match.group(1).upper():
        column = column * 26 + ord(letter) - 64
    return int(match.group(2)), column
