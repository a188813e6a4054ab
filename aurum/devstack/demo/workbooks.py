"""Generated EOD workbooks in the real EUGP and RP layouts.

For a demo on a machine without the vendors' files.

Prices follow a seeded random walk from day to day, with a seasonal shape along the tenor axis, so diffs and
movers have something to show. The layout (blank rows, ``Date:`` row, header rows with the label in column B,
the ``Mid`` / ``Bid   /   Ask`` marker row, tenors from row 12) is the one the parsers read from real files.
Written with xlsxwriter; dates are date-formatted numbers, as Excel writes them.
"""

import io
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import xlsxwriter

Cell = str | float | date | None

EUGP_CURVES = [  # (Location row, Product row, PEAK row, base price EUR/MWh)
    ("EU", "Dutch_TTF", "NA", 34.0),
    ("EU", "German", "BASE", 88.0),
    ("EU", "German", "PEAK", 101.0),
    ("EU", "French", "BASE", 72.0),
    ("EU", "EUA", "EMISSIONS", 71.0),
    ("UK", "NBP", "NA", 82.0),
    ("UK", "UK_Power", "BASE", 79.0),
    ("EE", "Polish", "BASE", 110.0),
]
RP_CURVES = [  # (region row, Location row, Product row, base price)
    ("US", "East Coast", "Maryland Solar Renewable Energy Credit", 52.0),
    ("US", "East Coast", "Maryland Compliance Renewable Energy Credit Tier 1", 25.0),
    ("US", "East Coast", "New Jersey Solar Renewable Energy Credit", 210.0),
    ("US", "ERCOT", "Texas Renewable Energy Credit", 2.1),
    ("US", "Gulf Coast", "Ultra Low Sulfur Diesel", 2.35),
    ("AP", "Japan", "Japan Korea Marker LNG", 12.4),
    ("AP", "Singapore", "Marine Fuel 0.5% FOB Singapore", 480.0),
    ("EU", "Rotterdam", "Rotterdam Barges Gasoline", 790.0),
]


def workbook_bytes(sheets: Mapping[str, Sequence[Sequence[Cell]]]) -> bytes:
    """One worksheet per entry, rows from A1; ``None`` and ``""`` leave a cell blank."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        sheet = workbook.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, date):
                    sheet.write_datetime(r, c, datetime(value.year, value.month, value.day), date_format)
                else:
                    sheet.write(r, c, value)
    workbook.close()
    return buffer.getvalue()


def business_days(end: date, count: int) -> list[date]:
    days: list[date] = []
    day = end
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return sorted(days)


def _months(asof: date, count: int) -> list[date]:
    return [
        date(asof.year + (asof.month - 1 + i) // 12, (asof.month - 1 + i) % 12 + 1, 1) for i in range(count)
    ]


def _sheet(
    headers: Sequence[tuple[str, Sequence[Cell]]],
    tenors: Sequence[Cell],
    values: Sequence[Sequence[Cell]],
    *,
    marker: str,
    asof: date,
    unlabelled_above: Sequence[Cell] | None = None,
) -> list[list[Cell]]:
    width = len(headers[0][1])
    rows: list[list[Cell]] = [[], [], [], [], ["Date:", asof]]
    if unlabelled_above is not None:
        rows.append(["", "", *unlabelled_above])
    rows.extend(["", label, *cells] for label, cells in headers)
    rows += [[], ["", "", *([marker] * width)], []]
    rows.extend(["", tenor, *row] for tenor, row in zip(tenors, values, strict=True))
    return rows


def _prices(bases: Sequence[float], months: Sequence[date], day_index: int, seed: int) -> np.ndarray:
    """Price per (month, curve): base × seasonal shape × a random walk over the days so far."""
    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.normal(0, 0.012, size=(day_index + 1, len(bases))), axis=0)[-1]
    season = np.array([1 + 0.12 * np.cos((m.month - 1) / 12 * 2 * np.pi) for m in months])
    drift = np.linspace(1.0, 0.93, len(months))
    return np.round(np.outer(season * drift, np.asarray(bases) * np.exp(walk)), 3)


def _bid_ask(prices: np.ndarray) -> list[list[Cell]]:
    spread = np.maximum(np.abs(prices) * 0.004, 0.001)
    return [
        [f"{p - s:.3f}   /   {p + s:.3f}" for p, s in zip(row, srow, strict=True)]
        for row, srow in zip(prices, spread, strict=True)
    ]


def eugp_demo_workbook(asof: date, day_index: int, *, months: int = 36) -> bytes:
    tenors = _months(asof, months)
    prices = _prices([c[3] for c in EUGP_CURVES], tenors, day_index, seed=7)
    headers = [
        ("Location", [c[0] for c in EUGP_CURVES]),
        ("Product", [c[1] for c in EUGP_CURVES]),
        ("PEAK", [c[2] for c in EUGP_CURVES]),
    ]
    years = sorted({m.year for m in tenors})[1:4]
    strip_labels = (
        [f"Calendar {y}" for y in years] + [f"Summer {y}" for y in years] + [f"Winter {y}" for y in years]
    )
    strips = np.round(np.outer(np.linspace(1.0, 0.95, len(strip_labels)), prices.mean(axis=0)), 3)
    sheets = {
        "Fixed Prices - Mid": _sheet(headers, tenors, prices.tolist(), marker="Mid", asof=asof),
        "Fixed Prices - BidAsk": _sheet(headers, tenors, _bid_ask(prices), marker="Bid   /   Ask", asof=asof),
        "Strips - Mid": _sheet(headers, strip_labels, strips.tolist(), marker="Mid", asof=asof),
        "Strips - BidAsk": _sheet(headers, strip_labels, _bid_ask(strips), marker="Bid   /   Ask", asof=asof),
    }
    return workbook_bytes(sheets)


def rp_demo_workbook(asof: date, day_index: int, *, months: int = 24) -> bytes:
    tenors = _months(asof, months)
    prices = _prices([c[3] for c in RP_CURVES], tenors, day_index, seed=11)
    headers = [("Location", [c[1] for c in RP_CURVES]), ("Product", [c[2] for c in RP_CURVES])]
    regions = [c[0] for c in RP_CURVES]
    calendars = [f"Calendar {asof.year + i}" for i in range(3)]
    blocks = np.round(np.outer(np.linspace(1.0, 1.04, len(calendars)), prices.mean(axis=0)), 3)
    sheets = {
        "Fixed Prices - Mid": _sheet(
            headers, tenors, prices.tolist(), marker="Mid", asof=asof, unlabelled_above=regions
        ),
        "Fixed Prices - BidAsk": _sheet(
            headers, tenors, _bid_ask(prices), marker="Bid   /   Ask", asof=asof, unlabelled_above=regions
        ),
        "Seasonal Blocks - Mid": _sheet(
            headers, calendars, blocks.tolist(), marker="Mid", asof=asof, unlabelled_above=regions
        ),
    }
    return workbook_bytes(sheets)


def demo_workbooks_write(folder: Path, *, end: date, days: int) -> list[Path]:
    """Write ``days`` business days of EUGP and RP workbooks ending at ``end``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for index, asof in enumerate(business_days(end, days)):
        for vendor, build in (("EUGP", eugp_demo_workbook), ("RP", rp_demo_workbook)):
            path = folder / f"EOD_{vendor}_{asof:%Y%m%d}_1430.xlsx"
            if not path.exists():
                path.write_bytes(build(asof, index))
            written.append(path)
    return written
