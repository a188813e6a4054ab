"""Parse one workbook end to end into CSV files: the logic behind `manage.py parse_workbook`, without Django.

parse -> enrich -> quarantine split (exact duplicates collapsed) -> optional derived strips -> CSV.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa

from apps.ingestion.parsers.csv_out import write_csv
from apps.ingestion.parsers.enrichment import enrich
from apps.ingestion.parsers.quality import quarantine_split
from apps.ingestion.parsers.strips import derived_strips
from apps.ingestion.parsers.workbook import parse_workbook

UNITS_MAP_ENV = "AURUM_UNITS_MAP"
# Development fallback: the reference data beside the checkout (see ../shared/fixtures/README.md).
_SHARED_UNITS_MAP = (
    Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "aurum-original" / "units_map.csv"
)


def default_units_map_path() -> Path:
    """Return `$AURUM_UNITS_MAP` if set, else the shared fixtures' `units_map.csv` beside the checkout."""
    configured = os.environ.get(UNITS_MAP_ENV)
    return Path(configured) if configured else _SHARED_UNITS_MAP.resolve()


@dataclass(frozen=True)
class ParseRunSummary:
    """What one run did, for the command's output and for logs."""

    source_file: str
    vendor: str
    asof_date: date
    asof_source: str
    rows_per_sheet: dict[str, int]
    points_per_sheet: dict[str, int]
    parsed_rows: int
    clean_rows: int
    quarantined_rows: int
    duplicate_rows_dropped: int
    derived_rows: int
    quarantine_reasons: dict[str, int]
    rule_warnings: dict[str, int]
    warnings: tuple[str, ...]
    parse_ms: float
    total_ms: float
    out_path: Path
    quarantine_path: Path | None = None

    def render(self) -> str:
        """Return a short human-readable report."""
        lines = [
            f"{self.source_file}: vendor {self.vendor}, as-of {self.asof_date} (from {self.asof_source})",
            "rows per sheet (price cells read):",
        ]
        for sheet, points in self.points_per_sheet.items():
            rows = self.rows_per_sheet.get(sheet)
            shown = f"{rows:>7,} rows" if rows is not None else " " * 12
            lines.append(f"  {sheet:<28}{shown}  ({points:,} cells)")
        lines.append(
            f"parsed {self.parsed_rows:,}; clean {self.clean_rows:,}; quarantined {self.quarantined_rows:,}; "
            f"exact duplicates dropped {self.duplicate_rows_dropped:,}; derived strips {self.derived_rows:,}"
        )
        for reason, count in sorted(self.quarantine_reasons.items()):
            lines.append(f"  quarantine {reason}: {count:,}")
        for rule, count in sorted(self.rule_warnings.items()):
            lines.append(f"  warning {rule}: {count:,} rows")
        lines.extend(f"  note: {warning}" for warning in self.warnings)
        lines.append(
            f"wrote {self.out_path}" + (f" and {self.quarantine_path}" if self.quarantine_path else "")
        )
        lines.append(f"time: parse {self.parse_ms:,.0f} ms, total {self.total_ms:,.0f} ms")
        return "\n".join(lines)


def _split_counts(column: pa.ChunkedArray) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for value in column.to_pylist():
        if value:
            counts.update(value.split("|"))
    return dict(counts)


def parse_workbook_to_csv(
    path: str | Path,
    *,
    out: str | Path,
    quarantine_out: str | Path | None = None,
    as_of: date | None = None,
    vendor: str | None = None,
    units_map_path: str | Path | None = None,
    with_derived_strips: bool = False,
) -> ParseRunSummary:
    """Parse `path`, write its clean rows to `out` (and quarantined rows to `quarantine_out`); return a
    summary.

    Raises `WorkbookError` for a bad workbook and `OSError` when the units map or an output cannot be
    accessed.
    """
    started = time.perf_counter()
    result = parse_workbook(path, as_of=as_of, vendor=vendor)
    parsed = enrich(result.rows, units_map_path or default_units_map_path())
    clean, quarantined = quarantine_split(parsed)
    derived = derived_strips(clean) if with_derived_strips else None
    published = pa.concat_tables([clean, derived]) if derived is not None else clean
    write_csv(published, out)
    if quarantine_out is not None:
        write_csv(quarantined, quarantine_out)
    return ParseRunSummary(
        source_file=result.source_file,
        vendor=result.vendor,
        asof_date=result.asof_date,
        asof_source=result.asof_source,
        rows_per_sheet=result.rows_per_sheet(),
        points_per_sheet=result.sheet_counts,
        parsed_rows=parsed.num_rows,
        clean_rows=clean.num_rows,
        quarantined_rows=quarantined.num_rows,
        duplicate_rows_dropped=parsed.num_rows - clean.num_rows - quarantined.num_rows,
        derived_rows=derived.num_rows if derived is not None else 0,
        quarantine_reasons=_split_counts(quarantined.column("quarantine_reason")),
        rule_warnings=_split_counts(clean.column("rule_warnings")),
        warnings=result.warnings,
        parse_ms=result.timings["total"],
        total_ms=round((time.perf_counter() - started) * 1000, 3),
        out_path=Path(out),
        quarantine_path=Path(quarantine_out) if quarantine_out is not None else None,
    )
