"""A handful of curve rows where every read semantic shows, and the same semantics in plain Python.

- pw / K_PJM: three vintages (09-10, 09-11, 09-12); on 09-12 tenor 2025-10 was loaded twice (a late
  re-ingest with a newer _ingest_ts and a different mid); 2025-11 has mid 0 on 09-11; 2025-12 exists only on
  09-11 and 2026-01 only on 09-12; a CALENDAR strip on 09-12.
- eugp / K_TTF: mid missing (NULL) on 09-12; a SEASON strip on 09-12.
- rp (never entitled in the tests): a newer vintage (09-13) of K_PJM / 2025-10 itself, and a PJM curve of
  its own, so a leak would show in every read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from aurum.lakehouse.queries import DIMENSIONS, HISTORY_COLUMNS, CurveFilters
from aurum.lakehouse.tables import CURVE_OBSERVATION_ARROW

Row = dict[str, Any]

K_PJM = "a" * 64
K_TTF = "b" * 64
K_RP = "c" * 64
D10, D11, D12, D13 = date(2025, 9, 10), date(2025, 9, 11), date(2025, 9, 12), date(2025, 9, 13)
ENTITLED = ("pw", "eugp")


def _ts(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _row(
    dataset: str,
    curve_key: str,
    asof: date,
    tenor_label: str,
    mid: float | None,
    *,
    ingest_hour: int = 18,
    tenor_type: str = "MONTHLY",
    contract_month: date | None = None,
    iso: str = "PJM",
    location: str = "West",
) -> Row:
    row: Row = {name: None for name in CURVE_OBSERVATION_ARROW.names}
    if contract_month is None and tenor_type == "MONTHLY":
        year, month = tenor_label.split("-")
        contract_month = date(int(year), int(month), 1)
    row.update(
        asof_date=asof,
        source_file=f"EOD_{dataset.upper()}_{asof:%Y%m%d}_1430.xlsx",
        sheet_name="Fixed Prices - Mid",
        asset_class="power",
        region="US" if iso == "PJM" else "EU",
        iso=iso,
        location=location,
        market="DA",
        product="power",
        block="ON_PEAK",
        price_type="MID",
        units_raw="USD/MWH",
        currency="USD",
        per_unit="MWh",
        tenor_type=tenor_type,
        contract_month=contract_month,
        tenor_label=tenor_label,
        value=mid,
        bid=None if mid is None else mid - 0.5,
        ask=None if mid is None else mid + 0.5,
        mid=mid,
        curve_key=curve_key,
        version_hash=f"v-{dataset}-{asof}-{ingest_hour}",
        _ingest_ts=_ts(asof, ingest_hour),
        is_derived=False,
        dataset=dataset,
        ingest_run_id=ingest_hour,
    )
    return row


ROWS: list[Row] = [
    _row("pw", K_PJM, D10, "2025-10", 39.0),
    _row("pw", K_PJM, D11, "2025-10", 40.0),
    _row("pw", K_PJM, D11, "2025-11", 0.0),
    _row("pw", K_PJM, D11, "2025-12", 50.0),
    _row("pw", K_PJM, D12, "2025-10", 42.0, ingest_hour=18),
    _row("pw", K_PJM, D12, "2025-10", 43.0, ingest_hour=23),  # late re-ingest of the same vintage
    _row("pw", K_PJM, D12, "2025-11", 5.0),
    _row("pw", K_PJM, D12, "2026-01", 60.0),
    _row("pw", K_PJM, D12, "Calendar 2026", 55.0, tenor_type="CALENDAR", contract_month=date(2026, 1, 1)),
    _row("eugp", K_TTF, D11, "2025-10", 20.0, iso="EU", location="Dutch_TTF"),
    _row("eugp", K_TTF, D12, "2025-10", None, iso="EU", location="Dutch_TTF"),
    _row("eugp", K_TTF, D12, "Summer 2026", 22.0, tenor_type="SEASON", iso="EU", location="Dutch_TTF"),
    _row("rp", K_PJM, D13, "2025-10", 999.0),
    _row("rp", K_PJM, D12, "2025-10", 998.0, ingest_hour=22),
    _row("rp", K_RP, D11, "2025-10", 70.0),
    _row("rp", K_RP, D12, "2025-10", 77.0),
]


def arrow_table(rows: list[Row] = ROWS) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=CURVE_OBSERVATION_ARROW)


# --- the semantics, in plain Python ---------------------------------------------------------------------


def _visible(row: Row, filters: CurveFilters) -> bool:
    if row["dataset"] not in filters.datasets:
        return False
    if filters.curve_keys and row["curve_key"] not in filters.curve_keys:
        return False
    return all(getattr(filters, name) in (None, row[name]) for name in DIMENSIONS)


def _newest(rows: list[Row], key: Callable[[Row], Any]) -> list[Row]:
    best: dict[Any, Row] = {}
    for row in rows:
        seen = best.get(key(row))
        if seen is None or (row["asof_date"], row["_ingest_ts"]) > (seen["asof_date"], seen["_ingest_ts"]):
            best[key(row)] = row
    return list(best.values())


def _keyset(row: Row) -> tuple[Any, ...]:
    month = row["contract_month"]
    return (row["curve_key"], row["tenor_label"], month is None, month or date.min, row["asof_date"])


def _page(rows: list[Row], filters: CurveFilters) -> list[Row]:
    end = None if filters.limit is None else filters.offset + filters.limit
    return rows[filters.offset : end]


def expected_read(filters: CurveFilters, vintage: Callable[[date], bool] = lambda _: True) -> list[Row]:
    rows = [row for row in ROWS if _visible(row, filters) and vintage(row["asof_date"])]
    newest = _newest(rows, lambda row: (row["curve_key"], row["tenor_label"]))
    return _page(sorted(newest, key=_keyset), filters)


def expected_strips(filters: CurveFilters, strip_type: str, asof: date | None) -> list[Row]:
    strip_filters = dataclasses.replace(filters, tenor_type=strip_type)
    return expected_read(strip_filters, (lambda _: True) if asof is None else (lambda day: day == asof))


def _unpaged_diff(filters: CurveFilters, asof_a: date, asof_b: date) -> list[Row]:
    everything = dataclasses.replace(filters, limit=None, offset=0)
    side_a = {(r["curve_key"], r["tenor_label"]): r for r in expected_read(everything, lambda d: d == asof_a)}
    side_b = {(r["curve_key"], r["tenor_label"]): r for r in expected_read(everything, lambda d: d == asof_b)}
    out = []
    for key in side_a.keys() & side_b.keys():
        a, b = side_a[key], side_b[key]
        diff = None if a["mid"] is None or b["mid"] is None else b["mid"] - a["mid"]
        pct = None if diff is None or not a["mid"] else diff / a["mid"]
        out.append(
            {
                "curve_key": a["curve_key"],
                "tenor_label": a["tenor_label"],
                "tenor_type": a["tenor_type"],
                "contract_month": a["contract_month"],
                "asof_a": asof_a,
                "mid_a": a["mid"],
                "asof_b": asof_b,
                "mid_b": b["mid"],
                "diff_abs": diff,
                "diff_pct": pct,
            }
        )
    return out


def _diff_order(row: Row) -> tuple[Any, ...]:
    month = row["contract_month"]
    return (row["curve_key"], row["tenor_label"], month is None, month or date.min)


def expected_diff(filters: CurveFilters, asof_a: date, asof_b: date) -> list[Row]:
    return _page(sorted(_unpaged_diff(filters, asof_a, asof_b), key=_diff_order), filters)


def expected_movers(filters: CurveFilters, asof_a: date, asof_b: date, top: int) -> list[Row]:
    moves = [row for row in _unpaged_diff(filters, asof_a, asof_b) if row["diff_abs"] is not None]
    return sorted(moves, key=lambda row: (-abs(row["diff_abs"]), *_diff_order(row)))[:top]


def expected_history(curve_key: str, tenor_label: str, datasets: tuple[str, ...]) -> list[Row]:
    rows = [
        row
        for row in ROWS
        if row["dataset"] in datasets and row["curve_key"] == curve_key and row["tenor_label"] == tenor_label
    ]
    newest = sorted(_newest(rows, lambda row: row["asof_date"]), key=lambda row: row["asof_date"])
    return [{name: row[name] for name in HISTORY_COLUMNS} for row in newest]


def expected_movers_pct(filters: CurveFilters, asof_a: date, asof_b: date, top: int) -> list[Row]:
    moves = [row for row in _unpaged_diff(filters, asof_a, asof_b) if row["diff_pct"] is not None]
    return sorted(moves, key=lambda row: (-abs(row["diff_pct"]), *_diff_order(row)))[:top]


def expected_between(filters: CurveFilters, start: date, end: date) -> list[Row]:
    rows = [row for row in ROWS if _visible(row, filters) and start <= row["asof_date"] <= end]
    newest = _newest(rows, lambda row: (row["curve_key"], row["tenor_label"], row["asof_date"]))
    ordered = sorted(
        newest, key=lambda r: (r["curve_key"], r["tenor_label"], r["asof_date"], r["price_type"])
    )
    return _page(ordered, filters)


def expected_on(filters: CurveFilters, days: tuple[date, ...]) -> list[Row]:
    """The vintages of exactly ``days``: ``expected_between`` restricted to those days."""
    rows = [row for row in ROWS if _visible(row, filters) and row["asof_date"] in days]
    newest = _newest(rows, lambda row: (row["curve_key"], row["tenor_label"], row["asof_date"]))
    ordered = sorted(
        newest, key=lambda r: (r["curve_key"], r["tenor_label"], r["asof_date"], r["price_type"])
    )
    return _page(ordered, filters)


def expected_dimensions(filters: CurveFilters) -> list[Row]:
    """(dimension, value, number of curves) over every visible row, dimensions plus commodity."""
    from aurum.lakehouse.queries import FILTER_COLUMNS

    curves: dict[tuple[str, str], set[str]] = {}
    for row in ROWS:
        if not _visible(row, filters):
            continue
        for name in FILTER_COLUMNS:
            if row.get(name):
                curves.setdefault((name, row[name]), set()).add(row["curve_key"])
    return [{"dimension": d, "value": v, "curves": len(keys)} for (d, v), keys in sorted(curves.items())]
