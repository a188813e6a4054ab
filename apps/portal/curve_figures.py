"""The numbers of a curve page, shaped for its table and its chart: pure functions over selector rows.

A curve's vintage mixes tenor types (monthly contracts and the quarter, season and calendar strips derived
from them); the page shows one tenor type at a time, so the chart has one point per tenor on one axis.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

TENOR_TYPE_ORDER = ("MONTHLY", "QUARTER", "SEASON", "CALENDAR")


@dataclass(frozen=True)
class TenorRow:
    tenor_label: str
    tenor_type: str
    contract_month: date | None
    mid: float | None
    bid: float | None
    ask: float | None
    compare_mid: float | None = None
    ghost_mid: float | None = None

    @property
    def diff(self) -> float | None:
        if self.mid is None or self.compare_mid is None:
            return None
        return self.mid - self.compare_mid


def number_text(value: float | None, *, signed: bool = False) -> str:
    """A price as the table shows it: 4 decimals, a dash for none (plain formatting: a 121-row table with
    Django's ``floatformat`` per cell cost tens of milliseconds)."""
    if value is None:
        return "—"
    return f"{value:+.4f}" if signed else f"{value:.4f}"


def table_cells(row: TenorRow, *, compare: bool) -> list[tuple[str, str, str]]:
    """The number cells of a row: (css class, exact value for data-value, text)."""
    values: list[tuple[float | None, bool]] = [(row.mid, False), (row.bid, False), (row.ask, False)]
    if compare:
        values += [(row.compare_mid, False), (row.diff, True)]
    cells = []
    for value, signed in values:
        trend = "" if not signed or not value else (" up" if value > 0 else " down")
        cells.append((f"num{trend}", repr(value), number_text(value, signed=signed)))
    return cells


def tenor_types(points: Iterable[Mapping[str, Any]]) -> list[tuple[str, int]]:
    """The tenor types present, with their number of tenors, in display order."""
    counts = Counter(str(p["tenor_type"]) for p in points)

    def rank(name: str) -> tuple[int, str]:
        return (TENOR_TYPE_ORDER.index(name) if name in TENOR_TYPE_ORDER else len(TENOR_TYPE_ORDER), name)

    return [(name, counts[name]) for name in sorted(counts, key=rank)]


def default_tenor_type(types: list[tuple[str, int]]) -> str | None:
    """Monthly when the curve has monthly tenors, else the type with the most tenors."""
    if not types:
        return None
    names = [name for name, _ in types]
    return "MONTHLY" if "MONTHLY" in names else max(types, key=lambda t: t[1])[0]


def _mids(points: Iterable[Mapping[str, Any]] | None, tenor_type: str) -> dict[str, float | None]:
    return {p["tenor_label"]: p["mid"] for p in points or () if p["tenor_type"] == tenor_type}


def tenor_rows(
    points: Iterable[Mapping[str, Any]],
    *,
    tenor_type: str,
    compare: Iterable[Mapping[str, Any]] | None = None,
    ghost: Iterable[Mapping[str, Any]] | None = None,
) -> list[TenorRow]:
    """One row per tenor of ``tenor_type`` in the vintage, by contract month; with the compared vintage's
    mid (``compare``) and the previous vintage's (``ghost``) for the same tenor where it has one."""
    compare_mids, ghost_mids = _mids(compare, tenor_type), _mids(ghost, tenor_type)
    rows = [
        TenorRow(
            tenor_label=p["tenor_label"],
            tenor_type=p["tenor_type"],
            contract_month=p["contract_month"],
            mid=p["mid"],
            bid=p["bid"],
            ask=p["ask"],
            compare_mid=compare_mids.get(p["tenor_label"]),
            ghost_mid=ghost_mids.get(p["tenor_label"]),
        )
        for p in points
        if p["tenor_type"] == tenor_type
    ]
    return sorted(rows, key=lambda r: (r.contract_month or date.max, r.tenor_label))


def curve_chart_spec(
    rows: list[TenorRow],
    *,
    asof: date,
    compare: date | None,
    ghost: date | None,
    y_label: str,
    point_link: Callable[[TenorRow], str],
) -> dict[str, Any]:
    """The chart spec (docs/portal.md) of a curve: mid, the bid/ask band where quoted, the previous vintage
    ghosted behind it and the compared vintage dashed."""
    series: list[dict[str, Any]] = []
    bands: list[list[int]] = []
    if ghost is not None and any(r.ghost_mid is not None for r in rows):
        series.append(
            {"label": f"Previous {ghost:%Y-%m-%d}", "role": "ghost", "values": [r.ghost_mid for r in rows]}
        )
    if any(r.bid is not None and r.ask is not None for r in rows):
        series.append({"label": "Ask", "role": "ask", "values": [r.ask for r in rows]})
        series.append({"label": "Bid", "role": "bid", "values": [r.bid for r in rows]})
        bands.append([len(series) - 2, len(series) - 1])
    series.append({"label": f"Mid {asof:%Y-%m-%d}", "role": "line", "values": [r.mid for r in rows]})
    if compare is not None:
        series.append(
            {"label": f"Mid {compare:%Y-%m-%d}", "role": "compare", "values": [r.compare_mid for r in rows]}
        )
    return {
        "x_labels": [r.tenor_label for r in rows],
        "x_title": "Tenor",
        "y_label": y_label,
        "decimals": 4,
        "series": series,
        "bands": bands,
        "point_links": [point_link(r) for r in rows],
        "point_target": "#lineage",
    }


def history_chart_spec(points: list[Mapping[str, Any]], *, y_label: str) -> dict[str, Any]:
    """One tenor across vintages: mid per as-of, with its bid/ask band where quoted."""
    series: list[dict[str, Any]] = []
    bands: list[list[int]] = []
    if any(p["bid"] is not None and p["ask"] is not None for p in points):
        series.append({"label": "Ask", "role": "ask", "values": [p["ask"] for p in points]})
        series.append({"label": "Bid", "role": "bid", "values": [p["bid"] for p in points]})
        bands.append([0, 1])
    series.append({"label": "Mid", "role": "line", "values": [p["mid"] for p in points]})
    return {
        "x_labels": [p["asof_date"].isoformat() for p in points],
        "x_title": "As-of",
        "y_label": y_label,
        "decimals": 4,
        "series": series,
        "bands": bands,
    }
