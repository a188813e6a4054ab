"""Every curve-read builder with the filters each case uses, and its expectation in plain Python."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from aurum.lakehouse import queries
from aurum.lakehouse.queries import CurveFilters
from aurum.lakehouse.sql import LakehouseQuery
from tests.support import sample
from tests.support.sample import D10, D11, D12, ENTITLED, K_PJM, K_RP, K_TTF

Row = dict[str, Any]


def approx_rows(rows: list[Row]) -> list[Row]:
    return [{k: pytest.approx(v) if isinstance(v, float) else v for k, v in row.items()} for row in rows]


# Every builder, with the filters each case uses, and its expectation in plain Python.
Case = tuple[Callable[[CurveFilters], LakehouseQuery], Callable[[CurveFilters], list[Row]]]
CASES: dict[str, Case] = {
    "latest": (queries.curves_latest, sample.expected_read),
    "asof": (
        lambda f: queries.curves_asof(f, D12),
        lambda f: sample.expected_read(f, lambda day: day == D12),
    ),
    "asof_older": (
        lambda f: queries.curves_asof(f, D11),
        lambda f: sample.expected_read(f, lambda day: day == D11),
    ),
    "as_known_at": (
        lambda f: queries.curves_as_known_at(f, D11),
        lambda f: sample.expected_read(f, lambda day: day <= D11),
    ),
    "diff": (
        lambda f: queries.curves_diff(f, D11, D12),
        lambda f: sample.expected_diff(f, D11, D12),
    ),
    "diff_reversed": (
        lambda f: queries.curves_diff(f, D12, D10),
        lambda f: sample.expected_diff(f, D12, D10),
    ),
    "strips_calendar_latest": (
        lambda f: queries.curves_latest(queries.strip_filters(f, "CALENDAR")),
        lambda f: sample.expected_strips(f, "CALENDAR", None),
    ),
    "strips_season_asof": (
        lambda f: queries.curves_asof(queries.strip_filters(f, "SEASON"), D12),
        lambda f: sample.expected_strips(f, "SEASON", D12),
    ),
    "movers": (
        lambda f: queries.curves_movers(f, D11, D12, 2),
        lambda f: sample.expected_movers(f, D11, D12, 2),
    ),
    "movers_pct": (
        lambda f: queries.curves_movers(f, D10, D12, 3, by="pct"),
        lambda f: sample.expected_movers_pct(f, D10, D12, 3),
    ),
    "between": (
        lambda f: queries.curves_between(f, D10, D11),
        lambda f: sample.expected_between(f, D10, D11),
    ),
    "on": (  # two vintages that are not adjacent: the one between is left out
        lambda f: queries.curves_on(f, (D12, D10)),
        lambda f: sample.expected_on(f, (D10, D12)),
    ),
    "dimensions": (
        lambda f: queries.curve_dimensions(f),
        lambda f: sample.expected_dimensions(f),
    ),
    "history": (
        lambda f: queries.curve_history(K_PJM, "2025-10", f.datasets),
        lambda f: sample.expected_history(K_PJM, "2025-10", f.datasets),
    ),
}
FILTERS = {
    "entitled": CurveFilters(datasets=ENTITLED),
    "pw_only": CurveFilters(datasets=("pw",)),
    "iso": CurveFilters(datasets=ENTITLED, iso="PJM"),
    "curve_keys": CurveFilters(datasets=ENTITLED, curve_keys=(K_TTF, K_RP)),
    "page": CurveFilters(datasets=ENTITLED, limit=2, offset=1),
    "monthly": CurveFilters(datasets=ENTITLED, tenor_type="MONTHLY", location="West"),
}
