"""The sheet layout shared by every vendor (spec 5.1): header rows, the tenor column and the value grid.

A sheet is read top-down. Before the first data row:

- a row labelled `Date:` (label in column A or B) carries the as-of date in the next cell;
- a row whose label (column A, else B; trimmed, lower-cased, trailing `:` dropped) is one of the vendor's
  header labels is a header row: its values, one per curve column from column C on, feed the identity of that
  column;
- an unlabelled row with values (RP's region row, the `Mid` / `Bid / Ask` marker row) is kept aside;
- any other labelled row is ignored but remembered, so a layout mismatch can be reported precisely.

The first data row is the first row whose tenor cell (column B) is a date, or text/number with at least one
price-like value beside it; from there on every row with a non-blank tenor cell is a data row. Header values
left blank inherit the nearest non-blank value to their left (carry-forward), except units, which come from
their own column only. A header value ending in `:` is a stray label and counts as blank.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from apps.ingestion.parsers.cells import parse_number

TENOR_COLUMN = 1
FIRST_VALUE_COLUMN = 2
UNITS_FIELD = "units"
DATE_LABEL = "date"

_EXCEL_EPOCH = date(1899, 12, 30)
_MIN_SERIAL, _MAX_SERIAL = 366, 2_958_465  # 1901-01-01 .. 9999-12-31
_SEASON_PREFIXES = ("WINTER", "SUMMER", "SPRING", "FALL", "AUTUMN")
_QUARTER = re.compile(r"Q\d", re.IGNORECASE)
_BID_ASK_TEXT = re.compile(
    r"^\s*[-+]?[\d,]*\.?\d+(?:[eE][-+]?\d+)?\s*/\s*[-+]?[\d,]*\.?\d+(?:[eE][-+]?\d+)?\s*$"
)


@dataclass(frozen=True, slots=True)
class Tenor:
    """One tenor row: type, label and contract month (first of the month; None for text labels)."""

    tenor_type: str
    label: str
    contract_month: date | None


@dataclass
class SheetLayout:
    """What one sheet holds once its layout is understood; column indices are absolute (A = 0)."""

    name: str
    headers: dict[str, list[str | None]] = field(default_factory=dict)  # field -> value per column
    labels: list[str] = field(default_factory=list)  # every label seen above the data, normalised, in order
    unlabelled_rows: list[tuple[int, list[str | None]]] = field(default_factory=list)  # (row index, values)
    label_rows: dict[str, int] = field(default_factory=dict)  # header field -> row index
    asof_cell: date | str | None = None
    tenors: list[Tenor] = field(default_factory=list)
    data_rows: list[Sequence[object]] = field(default_factory=list)
    data_row_indices: list[int] = field(default_factory=list)  # the sheet row (A1 row - 1) of each data row
    value_columns: list[int] = field(default_factory=list)
    _rows_above: dict[tuple[str, int | None, int], list[str | None] | None] = field(
        default_factory=dict, repr=False, compare=False
    )

    def header_value(self, header: str, column: int) -> str | None:
        """Return the (carried-forward) value of `header` for `column`, or None."""
        values = self.headers.get(header)
        if values is None or column >= len(values):
            return None
        return values[column]

    def unlabelled_row_above(self, header: str) -> list[str | None] | None:
        """Return the last unlabelled row above the row of `header` (RP's region row), or None."""
        anchor = self.label_rows.get(header)
        # Asked once per column of a sheet (thousands on RP): remembered while the layout is unchanged.
        key = (header, anchor, len(self.unlabelled_rows))
        if key in self._rows_above:
            return self._rows_above[key]
        found = None
        for index, values in self.unlabelled_rows:
            if anchor is None or index >= anchor:
                break
            found = values
        self._rows_above[key] = found
        return found


def normalise_label(cell: object) -> str:
    """Return a label cell trimmed, whitespace-collapsed, lower-cased and without its trailing `:`."""
    if not isinstance(cell, str):
        return ""
    return " ".join(cell.split()).lower().rstrip(":").rstrip()


def header_text(cell: object) -> str | None:
    """Return a header cell as text (None for blank cells and stray `...:` labels)."""
    if cell is None or isinstance(cell, bool):
        return None
    if isinstance(cell, str):
        text = cell.strip()
        return text if text and not text.endswith(":") else None
    if isinstance(cell, float):
        if not math.isfinite(cell):
            return None
        return str(int(cell)) if cell.is_integer() else repr(cell)
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell)


def classify_tenor(cell: object) -> Tenor | None:
    """Apply the spec's tenor rules to a tenor cell; None for a blank cell.

    A date is MONTHLY (`YYYY-MM`, contract month = first of that month). Text starting with `Calendar` is
    CALENDAR; text starting with a season name or containing `BAL`/`STRIP` is SEASON; `Q<digit>...` is
    QUARTER; any other text is MONTHLY with no contract month. A bare number is an Excel date serial that lost
    its format.
    """
    if isinstance(cell, datetime):
        cell = cell.date()
    if isinstance(cell, date):
        return Tenor("MONTHLY", f"{cell.year:04d}-{cell.month:02d}", date(cell.year, cell.month, 1))
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        if math.isfinite(cell) and _MIN_SERIAL <= cell <= _MAX_SERIAL:
            return classify_tenor(_EXCEL_EPOCH + timedelta(days=int(cell)))
        text = header_text(cell)
        return Tenor("MONTHLY", text, None) if text else None
    if not isinstance(cell, str) or not cell.strip():
        return None
    label = cell.strip()
    upper = label.upper()
    if upper.startswith("CALENDAR"):
        tenor_type = "CALENDAR"
    elif upper.startswith(_SEASON_PREFIXES) or "BAL" in upper or "STRIP" in upper:
        tenor_type = "SEASON"
    elif _QUARTER.match(label):
        tenor_type = "QUARTER"
    else:
        tenor_type = "MONTHLY"
    return Tenor(tenor_type, label, None)


def _is_price_like(cell: object) -> bool:
    if isinstance(cell, str):
        return parse_number(cell) is not None or bool(_BID_ASK_TEXT.match(cell))
    return parse_number(cell) is not None


def _is_blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _row_label(row: Sequence[object]) -> str:
    for column in (0, TENOR_COLUMN):
        if column < len(row) and not _is_blank(row[column]):
            return normalise_label(row[column])
    return ""


def _header_values(row: Sequence[object], width: int, *, carry_forward: bool) -> list[str | None]:
    values: list[str | None] = [None] * width
    previous: str | None = None
    for column in range(FIRST_VALUE_COLUMN, min(width, len(row))):
        value = header_text(row[column])
        if value is None and carry_forward:
            value = previous
        values[column] = value
        previous = value
    if carry_forward and previous is not None:
        for column in range(max(FIRST_VALUE_COLUMN, len(row)), width):
            values[column] = previous
    return values


def read_layout(
    name: str,
    rows: Sequence[Sequence[object]],
    *,
    header_labels: Mapping[str, str],
    carry_forward: bool,
) -> SheetLayout:
    """Read the layout of one sheet; `header_labels` maps normalised labels to header fields."""
    layout = SheetLayout(name=name)
    width = max((len(row) for row in rows), default=0)
    data_started = False
    for index, row in enumerate(rows):
        tenor_cell = row[TENOR_COLUMN] if len(row) > TENOR_COLUMN else None
        if data_started:
            if not _is_blank(tenor_cell):
                _add_data_row(layout, index, row, tenor_cell)
            continue
        label = _row_label(row)
        if label == DATE_LABEL:
            if layout.asof_cell is None:  # the first `Date:` row wins; a date here is never a tenor
                layout.asof_cell = _asof_cell(row)
            continue
        header = header_labels.get(label)
        if header is not None:
            layout.labels.append(label)
            if header not in layout.headers:  # the first row for a header wins
                keep_forward = carry_forward and header != UNITS_FIELD
                layout.headers[header] = _header_values(row, width, carry_forward=keep_forward)
                layout.label_rows[header] = index
            continue
        values = row[FIRST_VALUE_COLUMN:]
        if isinstance(tenor_cell, date) or (
            not _is_blank(tenor_cell) and any(_is_price_like(cell) for cell in values)
        ):
            data_started = True
            _add_data_row(layout, index, row, tenor_cell)
            continue
        if label:
            layout.labels.append(label)
        elif any(not _is_blank(cell) for cell in values):
            layout.unlabelled_rows.append((index, _header_values(row, width, carry_forward=carry_forward)))
    layout.value_columns = _value_columns(layout.data_rows, width)
    return layout


def _asof_cell(row: Sequence[object]) -> date | str | None:
    for cell in row[:3]:
        if isinstance(cell, datetime):
            return cell.date()
        if isinstance(cell, date):
            return cell
    texts = [cell.strip() for cell in row[1:3] if isinstance(cell, str) and cell.strip()]
    return texts[0] if texts else None


def _add_data_row(layout: SheetLayout, index: int, row: Sequence[object], tenor_cell: object) -> None:
    tenor = classify_tenor(tenor_cell)
    if tenor is not None:
        layout.tenors.append(tenor)
        layout.data_rows.append(row)
        layout.data_row_indices.append(index)


def _value_columns(data_rows: Sequence[Sequence[object]], width: int) -> list[int]:
    used = [False] * width
    for row in data_rows:
        for column in range(FIRST_VALUE_COLUMN, len(row)):
            if not used[column] and not _is_blank(row[column]):
                used[column] = True
    return [column for column in range(FIRST_VALUE_COLUMN, width) if used[column]]
