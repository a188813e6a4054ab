"""Real curves of the curve-read tests' private lake (tests.support.lake), as the workbooks themselves say."""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

from apps.ingestion.parsers import parse_workbook
from tests.support.lake import EUGP_DAYS, eod

EUGP, RP = "vendor:EUGP", "vendor:RP"
BOTH = (EUGP, RP)
D1, D2, D3 = EUGP_DAYS


@cache
def parsed(vendor: str, day: date) -> dict[tuple[str, str], dict[str, Any]]:
    """(curve_key, tenor_label) -> the parsed row of that workbook (quoted points, before strips)."""
    path = eod(vendor, day)
    rows = parse_workbook(path.read_bytes(), filename=path.name).rows.to_pylist()
    return {(r["curve_key"], r["tenor_label"]): r for r in rows}


def a_curve(vendor: str = "EUGP", day: date = D3) -> str:
    """A curve quoted with a mid on ``day`` with the most tenors (a full forward curve)."""
    counts: dict[str, int] = {}
    for (key, _), row in parsed(vendor, day).items():
        if row["mid"] is not None:
            counts[key] = counts.get(key, 0) + 1
    return max(sorted(counts), key=lambda k: counts[k])
