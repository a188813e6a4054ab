"""A workbook's time stamp: which of two workbooks for one (dataset, as-of) is the later publication.

First the ``_HHMM`` publication time in the file name (``EOD_RP_20250912_1430.xlsx``: 2025-09-12 14:30, read
as UTC), else the workbook's own last-modified time (``docProps/core.xml``), else none. The ordering that uses
it is in ``apps.ingestion.ordering`` (decision 0013).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

STAMP_FILE_NAME = "file_name"
STAMP_CORE_PROPERTIES = "core_properties"

_NAME_STAMP = re.compile(r"_(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(?=[_.]|$)")


@dataclass(frozen=True)
class FileStamp:
    at: datetime  # aware, UTC
    source: str  # STAMP_FILE_NAME or STAMP_CORE_PROPERTIES


def stamp_from_file_name(file_name: str) -> datetime | None:
    """The ``_YYYYMMDD_HHMM`` of a file name as a UTC time, or None."""
    for match in _NAME_STAMP.finditer(file_name):
        year, month, day, hour, minute = (int(part) for part in match.groups())
        try:
            return datetime(year, month, day, hour, minute, tzinfo=UTC)
        except ValueError:
            continue
    return None


def file_stamp(file_name: str, modified: datetime | None) -> FileStamp | None:
    """The workbook's stamp: from its file name, else its last-modified property, else None."""
    named = stamp_from_file_name(file_name)
    if named is not None:
        return FileStamp(named, STAMP_FILE_NAME)
    if modified is not None:
        return FileStamp(modified.astimezone(UTC), STAMP_CORE_PROPERTIES)
    return None
