"""PPA valuation (spec 2.5 and 4): monthly cashflows against a price curve, NPV, and IRR by bisection.

For each contract month in the valued span, in month order:
    cashflow_k = (price_k - ppa_price) x volume_k
    NPV        = sum_k cashflow_k / (1 + r_m)^k - upfront_cost,   r_m = (1 + discount_rate)^(1/12) - 1
where k is the month's index counted from the first valued month as 1 (a gap in the curve still advances k).
IRR is the per-period (monthly) rate that zeroes the series [-upfront_cost, cashflow_1, ..., cashflow_n]
(months missing from the curve count as 0), found by bisection over [-0.9999, 10]; it is None when every
cashflow has the same sign or the NPV does not change sign over that bracket.

Terms (a contract's `terms` plus valuation options; see `validate_terms`):
- `ppa_price` (or the contract's `price_usd_mwh`): the contract price;
- `volume_mwh` per month, else `capacity_mw` x hours in the month x `capacity_factor` (default 1);
- `discount_rate` (annual, default 0) and `upfront_cost` (default 0);
- `start_date` / `end_date`: only contract months from the start month to the end month are valued.
"""

from __future__ import annotations

import calendar
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

IRR_BRACKET = (-0.9999, 10.0)
_SIX_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class TermsError:
    """One problem with PPA terms: where (`terms.capacity_mw`), a stable code, and a message."""

    field_path: str
    code: str
    message: str


class InvalidTermsError(ValueError):
    def __init__(self, errors: Sequence[TermsError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{error.field_path}: {error.message}" for error in self.errors))


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _as_date(value: object) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def validate_terms(terms: Mapping[str, Any]) -> list[TermsError]:
    """Every problem that would stop a valuation; an empty list means the terms can be valued."""
    errors: list[TermsError] = []

    def number(
        key: str,
        *,
        minimum: float | None = None,
        above: float | None = None,
        maximum: float | None = None,
    ) -> None:
        value = terms.get(key)
        if value is None:
            return
        path = f"terms.{key}"
        if not _is_number(value):
            errors.append(TermsError(path, "INVALID_TYPE", f"{key} must be a finite number"))
        elif minimum is not None and value < minimum:
            errors.append(TermsError(path, "OUT_OF_RANGE", f"{key} must be >= {minimum:g}"))
        elif above is not None and value <= above:
            errors.append(TermsError(path, "OUT_OF_RANGE", f"{key} must be > {above:g}"))
        elif maximum is not None and value > maximum:
            errors.append(TermsError(path, "OUT_OF_RANGE", f"{key} must be <= {maximum:g}"))

    if terms.get("counterparty") is not None and not isinstance(terms["counterparty"], str):
        errors.append(TermsError("terms.counterparty", "INVALID_TYPE", "counterparty must be a string"))
    number("price_usd_mwh")
    number("ppa_price")
    if terms.get("ppa_price") is None and terms.get("price_usd_mwh") is None:
        errors.append(
            TermsError(
                "terms.price_usd_mwh",
                "REQUIRED_FIELD_MISSING",
                "a contract price is required (price_usd_mwh or ppa_price)",
            )
        )
    number("volume_mwh", minimum=0)
    number("capacity_mw", above=0)
    number("capacity_factor", above=0, maximum=1)
    if terms.get("volume_mwh") is None and terms.get("capacity_mw") is None:
        errors.append(
            TermsError(
                "terms.volume_mwh",
                "REQUIRED_FIELD_MISSING",
                "a volume is required (volume_mwh per month, or capacity_mw)",
            )
        )
    number("discount_rate", above=-1)
    number("upfront_cost")
    dates = {}
    for key in ("start_date", "end_date"):
        if terms.get(key) is None:
            continue
        dates[key] = _as_date(terms[key])
        if dates[key] is None:
            errors.append(
                TermsError(f"terms.{key}", "INVALID_DATE", f"{key} must be an ISO date (YYYY-MM-DD)")
            )
    start, end = dates.get("start_date"), dates.get("end_date")
    if start is not None and end is not None and end < start:
        errors.append(TermsError("terms.end_date", "END_BEFORE_START", "end_date is before start_date"))
    return errors


# --- cashflow arithmetic ----------------------------------------------------------------------------------


def monthly_rate(discount_rate: float) -> float:
    """The monthly rate equivalent to an annual `discount_rate`."""
    return (1.0 + discount_rate) ** (1.0 / 12.0) - 1.0 if discount_rate else 0.0


def npv(
    cashflows: Sequence[float], periods: Sequence[int], *, rate: float, upfront_cost: float = 0.0
) -> float:
    """sum cashflows[i] / (1 + rate)^periods[i] - upfront_cost."""
    return math.fsum(cf / (1.0 + rate) ** k for cf, k in zip(cashflows, periods, strict=True)) - upfront_cost


def _npv_sign(series: Sequence[float], rate: float) -> float:
    """A number with the sign of NPV(rate) of `series` (index 0 undiscounted), computed without overflow."""
    growth = 1.0 + rate
    if growth >= 1.0:
        return math.fsum(cf / growth**k for k, cf in enumerate(series))
    last = len(series) - 1  # multiply through by growth^last > 0: every exponent is then >= 0
    return math.fsum(cf * growth ** (last - k) for k, cf in enumerate(series))


def irr(
    series: Sequence[float],
    *,
    bracket: tuple[float, float] = IRR_BRACKET,
    tolerance: float = 1e-12,
    max_iterations: int = 200,
) -> float | None:
    """The per-period rate zeroing NPV of `series` (series[0] at period 0), by bisection over `bracket`.

    None when all cashflows share a sign (including all zero) or the NPV has the same sign at both ends.
    """
    if all(cf >= 0 for cf in series) or all(cf <= 0 for cf in series):
        return None
    low, high = bracket
    f_low, f_high = _npv_sign(series, low), _npv_sign(series, high)
    if f_low == 0:
        return low
    if f_high == 0:
        return high
    if (f_low > 0) == (f_high > 0):
        return None
    for _ in range(max_iterations):
        mid = (low + high) / 2.0
        f_mid = _npv_sign(series, mid)
        if f_mid == 0 or high - low < tolerance:
            return mid
        if (f_mid > 0) == (f_low > 0):
            low, f_low = mid, f_mid
        else:
            high = mid
    return (low + high) / 2.0


# --- valuation --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PpaCashflow:
    period: int  # 1 for the first valued month; gaps in the curve advance it
    period_start: date
    period_end: date
    price: float
    volume_mwh: float
    cashflow: float
    discounted: float


@dataclass(frozen=True)
class PpaValuation:
    """Monthly cashflows, NPV, and IRR (per month, as the spec computes it; None when undefined)."""

    cashflows: tuple[PpaCashflow, ...]
    npv: float
    irr: float | None
    ppa_price: float
    discount_rate: float
    upfront_cost: float

    @property
    def irr_annualised(self) -> float | None:
        return None if self.irr is None else (1.0 + self.irr) ** 12 - 1.0

    @property
    def period_start(self) -> date | None:
        return self.cashflows[0].period_start if self.cashflows else None

    @property
    def period_end(self) -> date | None:
        return self.cashflows[-1].period_end if self.cashflows else None


def _months(contract_months: npt.ArrayLike) -> list[date]:
    array = np.asarray(contract_months)
    if np.issubdtype(array.dtype, np.integer):
        array = array.astype("datetime64[M]")
    elif not np.issubdtype(array.dtype, np.datetime64):
        array = np.asarray(contract_months, dtype="datetime64[M]")
    return [value.astype("datetime64[M]").astype("datetime64[D]").astype(date) for value in array]


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _month_number(day: date) -> int:
    return day.year * 12 + day.month - 1


def value_ppa(
    *, contract_months: npt.ArrayLike, prices: npt.ArrayLike, terms: Mapping[str, Any]
) -> PpaValuation:
    """Value a PPA against a monthly price curve.

    Contract months are datetime64, dates, 'YYYY-MM' strings or months since 1970-01; prices follow the same
    order. Raises InvalidTermsError for bad terms, ValueError for repeated months or a missing price.
    """
    errors = validate_terms(terms)
    if errors:
        raise InvalidTermsError(errors)
    months = _months(contract_months)
    values = np.asarray(prices, dtype=np.float64)
    if values.shape != (len(months),):
        raise ValueError("prices need one value per contract month")
    if len(set(months)) != len(months):
        raise ValueError("contract months must be unique (value one tenor type at a time)")
    start, end = _as_date(terms.get("start_date")), _as_date(terms.get("end_date"))
    curve = sorted(
        (month, float(price))
        for month, price in zip(months, values, strict=True)
        if (start is None or _month_number(month) >= _month_number(start))
        and (end is None or _month_number(month) <= _month_number(end))
    )
    ppa_price = float(terms["ppa_price"] if terms.get("ppa_price") is not None else terms["price_usd_mwh"])
    discount_rate = float(terms.get("discount_rate") or 0.0)
    upfront_cost = float(terms.get("upfront_cost") or 0.0)
    rate = monthly_rate(discount_rate)

    cashflows: list[PpaCashflow] = []
    for month, price in curve:
        if math.isnan(price):
            raise ValueError(f"no price for {month:%Y-%m}")
        period = _month_number(month) - _month_number(curve[0][0]) + 1
        volume = _volume(terms, month)
        cashflow = (price - ppa_price) * volume
        cashflows.append(
            PpaCashflow(
                period, month, _month_end(month), price, volume, cashflow, cashflow / (1.0 + rate) ** period
            )
        )
    value = npv(
        [cf.cashflow for cf in cashflows],
        [cf.period for cf in cashflows],
        rate=rate,
        upfront_cost=upfront_cost,
    )
    series = [-upfront_cost] + [0.0] * (cashflows[-1].period if cashflows else 0)
    for cf in cashflows:
        series[cf.period] = cf.cashflow
    return PpaValuation(tuple(cashflows), value, irr(series), ppa_price, discount_rate, upfront_cost)


def _volume(terms: Mapping[str, Any], month: date) -> float:
    if terms.get("volume_mwh") is not None:
        return float(terms["volume_mwh"])
    hours = calendar.monthrange(month.year, month.month)[1] * 24
    return float(terms["capacity_mw"]) * hours * float(terms.get("capacity_factor") or 1.0)


# --- rows -------------------------------------------------------------------------------------------------


def to_decimal6(value: float | None) -> Decimal | None:
    """A float rounded HALF_UP to 6 decimals, as DECIMAL(18,6) stores it (from its shortest repr)."""
    return None if value is None else Decimal(repr(value)).quantize(_SIX_PLACES, rounding=ROUND_HALF_UP)


def _version_hash(
    contract_id: str, scenario_id: str, metric: str, period: date, value: Decimal | None
) -> str:
    text = f"{contract_id}|{scenario_id}|{metric}|{period.isoformat()}|{value}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def ppa_valuation_rows(
    valuation: PpaValuation,
    *,
    asof_date: date,
    ppa_contract_id: str,
    scenario_id: str,
    curve_key: str | None = None,
    currency: str | None = None,
) -> list[dict[str, Any]]:
    """`ppa_valuation` rows (spec 2.5): one `cashflow` per month, then `NPV`, then `IRR` (unit "ratio").

    Money values are Decimals rounded HALF_UP to 6 places; `irr` stays a float (None when undefined). No
    months valued, no rows.
    """
    if not valuation.cashflows:
        return []
    first, last = valuation.cashflows[0].period_start, valuation.cashflows[-1].period_end
    entries: list[tuple[str, date, date, float | None, dict[str, Any]]] = [
        ("cashflow", cf.period_start, cf.period_end, cf.cashflow, {"cashflow": to_decimal6(cf.cashflow)})
        for cf in valuation.cashflows
    ]
    entries.append(("NPV", first, last, valuation.npv, {"npv": to_decimal6(valuation.npv)}))
    entries.append(("IRR", first, last, valuation.irr, {"irr": valuation.irr}))
    rows = []
    for metric, start, end, value, columns in entries:
        rounded = to_decimal6(value)
        rows.append(
            {
                "asof_date": asof_date,
                "ppa_contract_id": ppa_contract_id,
                "scenario_id": scenario_id,
                "curve_key": curve_key,
                "period_start": start,
                "period_end": end,
                "cashflow": None,
                "npv": None,
                "irr": None,
                **columns,
                "metric": metric,
                "value": rounded,
                "unit": "ratio" if metric == "IRR" else currency,
                "currency": None if metric == "IRR" else currency,
                "version_hash": _version_hash(ppa_contract_id, scenario_id, metric, start, rounded),
            }
        )
    return rows
