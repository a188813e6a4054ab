"""PPA valuation (spec 4): monthly cashflows, NPV by explicit discounting, IRR by bisection, terms checks."""

from __future__ import annotations

import calendar
import math
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from apps.ppa.valuation import (
    InvalidTermsError,
    irr,
    ppa_valuation_rows,
    to_decimal6,
    validate_terms,
    value_ppa,
)

MONTHS = [f"{2026 + t // 12}-{t % 12 + 1:02d}" for t in range(24)]
PRICES = [52.0 + 3.0 * math.sin(t / 2.0) + 0.1 * t for t in range(24)]  # all above 48.5: one sign change
TERMS: dict[str, Any] = {
    "counterparty": "Solar Co",
    "price_usd_mwh": 48.5,
    "volume_mwh": 1200.0,
    "discount_rate": 0.08,
    "upfront_cost": 25_000.0,
}


def explicit_npv(series: list[float], rate: float) -> float:
    """series[0] undiscounted, series[k] discounted k periods."""
    total = 0.0
    for k, cashflow in enumerate(series):
        total += cashflow / (1 + rate) ** k
    return total


def test_npv_discounts_each_month_at_the_monthly_equivalent_rate() -> None:
    valuation = value_ppa(contract_months=MONTHS, prices=PRICES, terms=TERMS)
    monthly = (1 + 0.08) ** (1 / 12) - 1
    expected = -25_000.0
    for k, price in enumerate(PRICES, start=1):
        expected += (price - 48.5) * 1200.0 / (1 + monthly) ** k
    assert valuation.npv == pytest.approx(expected, rel=1e-12)
    assert [cf.cashflow for cf in valuation.cashflows] == pytest.approx([(p - 48.5) * 1200.0 for p in PRICES])
    assert valuation.cashflows[1].period_start == date(2026, 2, 1)
    assert valuation.cashflows[1].period_end == date(2026, 2, 28)


def test_a_gap_in_the_curve_still_advances_the_period_index() -> None:
    months = MONTHS[:5] + MONTHS[6:]
    prices = PRICES[:5] + PRICES[6:]
    valuation = value_ppa(contract_months=months, prices=prices, terms=TERMS)
    monthly = (1 + 0.08) ** (1 / 12) - 1
    expected = -25_000.0
    for k, price in enumerate(PRICES, start=1):
        if k != 6:
            expected += (price - 48.5) * 1200.0 / (1 + monthly) ** k
    assert valuation.npv == pytest.approx(expected, rel=1e-12)
    assert [cf.period for cf in valuation.cashflows][4:6] == [5, 7]


def test_irr_zeroes_the_npv_of_the_series() -> None:
    valuation = value_ppa(contract_months=MONTHS, prices=PRICES, terms=TERMS)
    assert valuation.irr is not None
    series = [-25_000.0] + [(p - 48.5) * 1200.0 for p in PRICES]
    assert explicit_npv(series, valuation.irr) == pytest.approx(0.0, abs=1e-6)
    assert valuation.irr_annualised == pytest.approx((1 + valuation.irr) ** 12 - 1)


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        ([-100.0, 110.0], 0.10),
        ([-100.0, 100.0, 50.0], (math.sqrt(3) - 1) / 2),  # 50 x^2 + 100 x - 100 = 0 with x = 1 / (1 + r)
        ([-1000.0] + [100.0] * 12, None),  # annuity: checked against its closed form below
        ([-100.0, -50.0, 0.0, 400.0], None),
    ],
)
def test_irr_against_closed_forms(series: list[float], expected: float | None) -> None:
    rate = irr(series)
    assert rate is not None
    if expected is not None:
        assert rate == pytest.approx(expected, abs=1e-10)
    else:
        annuity = sum(cf / (1 + rate) ** k for k, cf in enumerate(series))
        assert annuity == pytest.approx(0.0, abs=1e-8)


def test_irr_of_the_original_two_month_example() -> None:
    # ppa_price 50, volume 10, discount 12%, upfront 100 against 60 and 55 (the original's test case)
    valuation = value_ppa(
        contract_months=["2025-01", "2025-02"],
        prices=[60.0, 55.0],
        terms={"ppa_price": 50.0, "volume_mwh": 10.0, "discount_rate": 0.12, "upfront_cost": 100},
    )
    monthly = 1.12 ** (1 / 12) - 1
    assert valuation.npv == pytest.approx(-100 + 100 / (1 + monthly) + 50 / (1 + monthly) ** 2, rel=1e-12)
    assert valuation.irr == pytest.approx((math.sqrt(3) - 1) / 2, abs=1e-10)


@pytest.mark.parametrize("prices", [[60.0] * 6, [40.0] * 6])
def test_irr_is_null_when_cashflows_never_change_sign(prices: list[float]) -> None:
    valuation = value_ppa(contract_months=MONTHS[:6], prices=prices, terms={**TERMS, "upfront_cost": 0})
    assert valuation.irr is None
    rows = ppa_valuation_rows(valuation, asof_date=date(2025, 12, 1), ppa_contract_id="c1", scenario_id="s1")
    irr_row = rows[-1]
    assert (irr_row["metric"], irr_row["value"], irr_row["irr"], irr_row["unit"]) == (
        "IRR",
        None,
        None,
        "ratio",
    )


def test_irr_is_null_for_zero_cashflows_and_without_a_root_in_the_bracket() -> None:
    assert irr([0.0, 0.0, 0.0]) is None
    assert irr([100.0, -300.0, 250.0]) is None  # NPV > 0 at both ends of [-0.9999, 10]


def test_long_series_do_not_overflow_near_minus_one() -> None:
    series = [-5000.0] + [40.0] * 240
    rate = irr(series)
    assert rate is not None
    assert explicit_npv(series, rate) == pytest.approx(0.0, abs=1e-6)


def test_volume_from_capacity_and_the_contract_window() -> None:
    terms = {
        "price_usd_mwh": 45.0,
        "capacity_mw": 10.0,
        "capacity_factor": 0.5,
        "start_date": "2026-02-15",
        "end_date": "2026-04-30",
    }
    valuation = value_ppa(contract_months=np.array(MONTHS, dtype="datetime64[M]"), prices=PRICES, terms=terms)
    assert [cf.period_start for cf in valuation.cashflows] == [
        date(2026, 2, 1),
        date(2026, 3, 1),
        date(2026, 4, 1),
    ]
    for cf, month, price in zip(valuation.cashflows, (2, 3, 4), PRICES[1:4], strict=True):
        hours = calendar.monthrange(2026, month)[1] * 24
        assert cf.volume_mwh == 10.0 * hours * 0.5
        assert cf.cashflow == pytest.approx((price - 45.0) * 10.0 * hours * 0.5)
    assert [cf.period for cf in valuation.cashflows] == [1, 2, 3]


def test_rows_round_half_up_to_six_places_and_cover_the_span() -> None:
    valuation = value_ppa(contract_months=MONTHS[:3], prices=PRICES[:3], terms=TERMS)
    rows = ppa_valuation_rows(
        valuation,
        asof_date=date(2025, 12, 1),
        ppa_contract_id="c1",
        scenario_id="s1",
        curve_key="K",
        currency="USD",
    )
    assert [row["metric"] for row in rows] == ["cashflow", "cashflow", "cashflow", "NPV", "IRR"]
    assert rows[0]["cashflow"] == to_decimal6(valuation.cashflows[0].cashflow)
    npv_row = rows[3]
    assert (npv_row["period_start"], npv_row["period_end"]) == (date(2026, 1, 1), date(2026, 3, 31))
    assert npv_row["npv"] == npv_row["value"] == to_decimal6(valuation.npv)
    assert rows[4]["irr"] == valuation.irr
    assert len({row["version_hash"] for row in rows}) == 5
    assert all(len(row["version_hash"]) == 16 for row in rows)
    assert to_decimal6(0.0000125) == Decimal("0.000013")  # HALF_UP, where banker's rounding gives 0.000012
    assert to_decimal6(-2.5e-7) == Decimal("-0.000000")
    assert (
        ppa_valuation_rows(
            value_ppa(contract_months=MONTHS, prices=PRICES, terms={**TERMS, "start_date": "2030-01-01"}),
            asof_date=date(2025, 12, 1),
            ppa_contract_id="c",
            scenario_id="s",
        )
        == []
    )


@pytest.mark.parametrize(
    ("terms", "path", "code"),
    [
        ({"volume_mwh": 10}, "terms.price_usd_mwh", "REQUIRED_FIELD_MISSING"),
        ({"price_usd_mwh": 40}, "terms.volume_mwh", "REQUIRED_FIELD_MISSING"),
        ({**TERMS, "price_usd_mwh": "48.5"}, "terms.price_usd_mwh", "INVALID_TYPE"),
        ({**TERMS, "ppa_price": float("nan")}, "terms.ppa_price", "INVALID_TYPE"),
        ({**TERMS, "volume_mwh": -1}, "terms.volume_mwh", "OUT_OF_RANGE"),
        ({**TERMS, "capacity_mw": 0}, "terms.capacity_mw", "OUT_OF_RANGE"),
        ({**TERMS, "capacity_factor": 1.2}, "terms.capacity_factor", "OUT_OF_RANGE"),
        ({**TERMS, "discount_rate": -1.0}, "terms.discount_rate", "OUT_OF_RANGE"),
        ({**TERMS, "upfront_cost": True}, "terms.upfront_cost", "INVALID_TYPE"),
        ({**TERMS, "counterparty": 7}, "terms.counterparty", "INVALID_TYPE"),
        ({**TERMS, "start_date": "2026/01/01"}, "terms.start_date", "INVALID_DATE"),
        (
            {**TERMS, "start_date": "2026-05-01", "end_date": "2026-01-31"},
            "terms.end_date",
            "END_BEFORE_START",
        ),
    ],
)
def test_terms_validation_names_the_field(terms: dict[str, Any], path: str, code: str) -> None:
    assert (path, code) in {(error.field_path, error.code) for error in validate_terms(terms)}
    with pytest.raises(InvalidTermsError):
        value_ppa(contract_months=MONTHS, prices=PRICES, terms=terms)


def test_valid_terms_have_no_errors() -> None:
    assert validate_terms(TERMS) == []
    assert validate_terms({"ppa_price": 40, "capacity_mw": 5, "start_date": "2026-01-01"}) == []


def test_curve_problems_are_value_errors() -> None:
    with pytest.raises(ValueError, match="unique"):
        value_ppa(contract_months=["2026-01", "2026-01"], prices=[1.0, 2.0], terms=TERMS)
    with pytest.raises(ValueError, match="no price for 2026-02"):
        value_ppa(contract_months=["2026-01", "2026-02"], prices=[1.0, math.nan], terms=TERMS)
