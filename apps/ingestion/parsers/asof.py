"""As-of date detection (spec 5.1 and 8.6).

Order: an explicit override; the date cell next to `Date:` (real EUGP/RP workbooks, A5/B5); the file name
(`_YYYYMMDD_`); text in the first 12 rows of up to 4 sheets ("as of MM/DD/YYYY" first, else "YYYY-MM-DD").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from apps.ingestion.parsers.errors import MissingAsOfError

ASOF_OVERRIDE = "override"
ASOF_DATE_CELL = "date_cell"
ASOF_FILE_NAME = "file_name"
ASOF_TEXT = "text"

TEXT_SCAN_ROWS = 12
TEXT_SCAN_SHEETS = 4

_FILE_NAME_DATE = re.compile(r"_(\d{4})(\d{2})(\d{2})(?=[_.]|$)")
_AS_OF_US = re.compile(r"as[-_\s]*of\s*[:=-]?\s*(\d{1,2})[/-](\d{1,2})[/-](\d{4})\b", re.IGNORECASE)
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


@dataclass(frozen=True)
class AsOf:
    """The resolved as-of date and where it came from (one of the ASOF_* values)."""

    value: date
    source: str


def _safe_date(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def asof_from_file_name(file_name: str) -> date | None:
    """Return the `_YYYYMMDD_` date of a file name such as `EOD_RP_20250912_1430.xlsx`, or None."""
    for match in _FILE_NAME_DATE.finditer(file_name):
        found = _safe_date(*match.groups())
        if found is not None:
            return found
    return None


def asof_from_cell(cell: date | str | None) -> date | None:
    """Return the date held by a `Date:` cell: a date, or text `YYYY-MM-DD` / `MM/DD/YYYY`."""
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    if isinstance(cell, str):
        text = cell.strip()
        iso = _ISO_DATE.fullmatch(text)
        if iso:
            return _safe_date(*iso.groups())
        us = _US_DATE.match(text)
        if us:
            month, day, year = us.groups()
            return _safe_date(year, month, day)
    return None


def asof_from_text(sheets: Iterable[Sequence[Sequence[object]]]) -> date | None:
    """Scan each sheet's first rows: the first "as of MM/DD/YYYY" wins, else the first ISO date."""
    fallback: date | None = None
    for rows in sheets:
        for row in rows[:TEXT_SCAN_ROWS]:
            for cell in row:
                if not isinstance(cell, str) or not cell.strip():
                    continue
                for match in _AS_OF_US.finditer(cell):
                    month, day, year = match.groups()
                    found = _safe_date(year, month, day)
                    if found is not None:
                        return found
                if fallback is None:
                    for match in _ISO_DATE.finditer(cell):
                        fallback = _safe_date(*match.groups())
                        if fallback is not None:
                            break
    return fallback


def resolve_asof(
    *,
    override: date | None,
    date_cells: Sequence[tuple[str, date | str | None]],
    file_name: str,
    text_sheets: Callable[[], Iterable[Sequence[Sequence[object]]]],
) -> tuple[AsOf, list[str]]:
    """Return the as-of date and warnings about disagreeing sources; raise MissingAsOfError when none is
    found.

    `date_cells` are (sheet name, `Date:` cell) pairs; `text_sheets` yields sheet rows for the text scan and
    is only called when everything else failed.
    """
    warnings: list[str] = []
    from_cells = [(sheet, found) for sheet, cell in date_cells if (found := asof_from_cell(cell)) is not None]
    from_name = asof_from_file_name(file_name)
    if from_cells:
        sheet, cell_date = from_cells[0]
        others = sorted({found for _, found in from_cells if found != cell_date})
        if others:
            warnings.append(f"sheets disagree on the as-of date: {cell_date} ({sheet!r}) vs {others[0]}")
        if from_name is not None and from_name != cell_date:
            warnings.append(
                f"file name says {from_name} but the Date: cell says {cell_date}; using {cell_date}"
            )
    if override is not None:
        return AsOf(override, ASOF_OVERRIDE), warnings
    if from_cells:
        return AsOf(from_cells[0][1], ASOF_DATE_CELL), warnings
    if from_name is not None:
        return AsOf(from_name, ASOF_FILE_NAME), warnings
    from_text = asof_from_text(text_sheets())
    if from_text is not None:
        return AsOf(from_text, ASOF_TEXT), warnings
    raise MissingAsOfError(
        f"{file_name}: no as-of date found (no 'Date:' cell, no _YYYYMMDD_ in the file name, no date text "
        "in the first rows). Pass the as-of date explicitly (--as-of YYYY-MM-DD).",
        filename=file_name,
    )
