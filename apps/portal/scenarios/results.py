"""A run's result for one curve, shaped for the page: the P10/P50/P90 chart spec, the table beside it, and
the attribution per driver; and the comparison of two runs. Pure functions over output rows."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

TENOR_TYPE_ORDER = ("MONTHLY", "QUARTER", "SEASON", "CALENDAR")


def _number(value: float | None, decimals: int = 3) -> str:
    return "–" if value is None else f"{value:.{decimals}f}"


@dataclass(frozen=True)
class ResultRow:
    tenor_label: str
    contract_month: date
    base: float
    p10: float | None
    p50: float
    p90: float | None
    deltas: dict[str, float]
    contributions: tuple[float | None, ...] = ()  # the deltas in the order of CurveResult.components

    @property
    def cells(self) -> list[str]:
        """Base, P10, P50, P90 and each driver's delta, formatted (a long table renders fast)."""
        values = (self.base, self.p10, self.p50, self.p90, *self.contributions)
        return [_number(value) for value in values]


@dataclass(frozen=True)
class Attribution:
    component: str
    mean: float
    first: float
    last: float
    share: float  # |mean| / the largest |mean|, for the bar

    @property
    def share_percent(self) -> int:
        return round(self.share * 100)


@dataclass(frozen=True)
class CurveResult:
    rows: list[ResultRow]
    components: list[str]
    attribution: list[Attribution]

    def chart(self, *, unit: str) -> dict[str, Any]:
        """The portal.js chart spec: P10 and P90 bound the band, P50 is the line, the base curve ghosted."""
        return {
            "x_labels": [row.tenor_label for row in self.rows],
            "x_title": "Tenor",
            "y_label": unit,
            "decimals": 2,
            "series": [
                {"label": "P10", "role": "p10", "values": [row.p10 for row in self.rows]},
                {"label": "P90", "role": "p90", "values": [row.p90 for row in self.rows]},
                {"label": "Base", "role": "ghost", "values": [round(row.base, 6) for row in self.rows]},
                {"label": "P50", "role": "line", "values": [row.p50 for row in self.rows]},
            ],
            "bands": [[1, 0]],
        }


def tenor_types_of(rows: Sequence[dict[str, Any]]) -> list[str]:
    present = {row["tenor_type"] for row in rows}
    return [kind for kind in TENOR_TYPE_ORDER if kind in present] + sorted(present - set(TENOR_TYPE_ORDER))


def curve_result(rows: Sequence[dict[str, Any]], *, tenor_type: str) -> CurveResult:
    """The ``mid`` rows of one curve and tenor type, in contract-month order; the base is the P50 less the
    drivers' contributions (they sum to value - base in every cell)."""
    chosen = sorted(
        (row for row in rows if row["tenor_type"] == tenor_type),
        key=lambda row: (row["contract_month"], row["tenor_label"]),
    )
    components: list[str] = []
    result_rows = []
    for row in chosen:
        deltas = {part["component"]: float(part["delta"]) for part in row["attribution"] or []}
        for name in deltas:
            if name not in components:
                components.append(name)
        value = float(row["value"])
        result_rows.append(
            ResultRow(
                tenor_label=row["tenor_label"],
                contract_month=row["contract_month"],
                base=value - sum(deltas.values()),
                p10=row["band_lower"],
                p50=value,
                p90=row["band_upper"],
                deltas=deltas,
            )
        )
    result_rows = [
        dataclasses.replace(row, contributions=tuple(row.deltas.get(name) for name in components))
        for row in result_rows
    ]
    means = {
        name: sum(r.deltas.get(name, 0.0) for r in result_rows) / len(result_rows) if result_rows else 0.0
        for name in components
    }
    largest = max((abs(mean) for mean in means.values()), default=0.0) or 1.0
    attribution = [
        Attribution(
            component=name,
            mean=means[name],
            first=result_rows[0].deltas.get(name, 0.0),
            last=result_rows[-1].deltas.get(name, 0.0),
            share=abs(means[name]) / largest,
        )
        for name in components
    ]
    return CurveResult(rows=result_rows, components=components, attribution=attribution)


@dataclass(frozen=True)
class CompareRow:
    tenor_label: str
    value: float
    other_value: float
    delta: float
    delta_pct: float | None

    @property
    def cells(self) -> list[str]:
        return [
            _number(self.value),
            _number(self.other_value),
            _number(self.delta),
            _number(self.delta_pct, 2),
        ]


def compare_rows(rows: Sequence[dict[str, Any]], *, curve_key: str, tenor_type: str) -> list[CompareRow]:
    """One curve's rows of ``runs_compare`` of one tenor type, in contract-month order."""
    mine = [row for row in rows if row["curve_key"] == curve_key and row["tenor_type"] == tenor_type]
    mine.sort(key=lambda row: (row["contract_month"], row["tenor_label"]))
    return [
        CompareRow(
            tenor_label=row["tenor_label"],
            value=float(row["value"]),
            other_value=float(row["other_value"]),
            delta=float(row["delta"]),
            delta_pct=None if row["delta_pct"] is None else float(row["delta_pct"]) * 100,
        )
        for row in mine
    ]


def compare_chart(rows: Sequence[CompareRow], *, label_a: str, label_b: str, unit: str) -> dict[str, Any]:
    return {
        "x_labels": [row.tenor_label for row in rows],
        "x_title": "Tenor",
        "y_label": unit,
        "decimals": 2,
        "series": [
            {"label": label_a, "role": "line", "values": [row.value for row in rows]},
            {"label": label_b, "role": "compare", "values": [row.other_value for row in rows]},
        ],
    }
