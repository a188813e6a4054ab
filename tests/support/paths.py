"""Where the shared real-data fixtures live: `../shared/fixtures` beside the repository root."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures"
EOD_DIR = FIXTURES / "eod"
ORIGINAL = FIXTURES / "aurum-original"
UNITS_MAP = ORIGINAL / "units_map.csv"


def eod_files(vendor: str | None = None) -> list[Path]:
    """Every real EOD workbook, optionally of one vendor, in date order."""
    pattern = f"EOD_{vendor}_*.xlsx" if vendor else "EOD_*.xlsx"
    return sorted(EOD_DIR.glob(pattern))
