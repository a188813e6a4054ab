"""Independent arithmetic for PPA tests, straight from the spec's formulas (section 4, PPA valuation).

Written separately from apps.ppa.valuation on purpose: the IRR here is a root of the NPV polynomial found by
numpy's eigenvalue method, not by bisection.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date

import numpy as np


def month_index(day: date) -> int:
    return day.year * 12 + day.month


def window(mids: Sequence[tuple[date, float]], start: date, end: date) -> list[tuple[date, float]]:
    return [(m, p) for m, p in mids if month_index(start) <= month_index(m) <= month_index(end)]


def cashflows(months: Sequence[tuple[date, float]], ppa_price: float, volume: float) -> list[float]:
    """cashflow = (market price − ppa price) × volume, month by month."""
    return [(price - ppa_price) * volume for _, price in months]


def npv(
    months: Sequence[tuple[date, float]], flows: Sequence[float], annual_rate: float, upfront: float
) -> float:
    """Σ cashflow_k / (1 + r_m)^k − upfront, r_m = (1 + annual)^(1/12) − 1, k counted from the first month."""
    monthly = (1 + annual_rate) ** (1 / 12) - 1
    first = month_index(months[0][0])
    total = -upfront
    for (month, _), flow in zip(months, flows, strict=True):
        total += flow / (1 + monthly) ** (month_index(month) - first + 1)
    return total


def irr_by_roots(upfront: float, flows: Sequence[float]) -> list[float]:
    """Every real rate r > −1 with −upfront + Σ flow_k x^k = 0, x = 1/(1+r) (consecutive months)."""
    coefficients = [*reversed(list(flows)), -upfront]  # highest power first for np.roots
    rates = []
    for root in np.roots(coefficients):
        if abs(root.imag) < 1e-9 and root.real > 0:
            rates.append(1 / root.real - 1)
    return sorted(rates)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])
