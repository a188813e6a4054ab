"""Vendor EOD workbook parsing: pure Python (no Django, no database), Arrow tables out.

Typical use: `parse_workbook(path)` gives a `ParseResult` whose `rows` have the curve.observation.v1 columns;
`enrich(rows, units_map_path)` fills currency and per_unit; `quarantine_split(rows)` separates clean rows from
quarantined ones (spec reasons and business rules); `derived_strips(clean)` adds CALENDAR/QUARTER averages;
`write_csv` writes either table.
"""

from apps.ingestion.parsers.csv_out import write_csv
from apps.ingestion.parsers.enrichment import enrich
from apps.ingestion.parsers.errors import WorkbookError
from apps.ingestion.parsers.identity import curve_key, version_hash
from apps.ingestion.parsers.quality import RULES, QualityRule, evaluate_rules, quarantine_split
from apps.ingestion.parsers.strips import derived_strips
from apps.ingestion.parsers.workbook import ParseResult, detect_vendor, parse_workbook

__all__ = [
    "RULES",
    "ParseResult",
    "QualityRule",
    "WorkbookError",
    "curve_key",
    "derived_strips",
    "detect_vendor",
    "enrich",
    "evaluate_rules",
    "parse_workbook",
    "quarantine_split",
    "version_hash",
    "write_csv",
]
