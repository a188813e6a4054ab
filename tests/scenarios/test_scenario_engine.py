"""Deterministic scenario engine on 2 curves x 24 monthly tenors.

Every expected number is computed here from the formulas in plain loops (spec 4 toy formulas extended over
the tenor axis), never with the engine's own helpers.
"""

from __future__ import annotations

import hashlib
import math
from datetime import date
from typing import Any

import numpy as np
import pytest

from apps.scenarios.engine import (
    CurveSet,
    EngineOptions,
    RunCancelled,
    ScenarioValidationError,
    run_scenario,
    scenario_output_rows,
)

ASOF = date(2025, 9, 12)
N_TENORS = 24
MONTHS = [(2025 + (8 + t) // 12, (8 + t) % 12 + 1) for t in range(N_TENORS)]  # 2025-09 .. 2027-08
LABELS = [f"{y}-{m:02d}" for y, m in MONTHS]
BASE_A = [40.0 + 0.5 * t for t in range(N_TENORS)]
BASE_B = [60.0 - 0.25 * t + (5.0 if m in (12, 1, 2) else 0.0) for t, (_, m) in enumerate(MONTHS)]
BASE = [BASE_A, BASE_B]


def curves(base: list[list[float]] | None = None) -> CurveSet:
    return CurveSet(
        curve_keys=("A", "B"),
        tenor_labels=tuple(LABELS),
        contract_months=np.array(LABELS, dtype="datetime64[M]"),
        mid=np.array(base or BASE),
    )


def run(*assumptions: dict[str, Any], base: list[list[float]] | None = None) -> Any:
    return run_scenario(curves(base), list(assumptions), asof=ASOF)


def month_number(year: int, month: int) -> int:
    return year * 12 + month - 1


def hash_term(name: str) -> float:
    return (int(hashlib.sha256(name.encode()).hexdigest()[:6], 16) % 50) / 1000


def policy(name: str, start_year: int | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"policy_name": name}
    if start_year is not None:
        payload["start_year"] = start_year
    return {"driver_type": "policy", "payload": payload}


# --- the original toy model is the front month ------------------------------------------------------------


def test_front_month_of_a_flat_50_curve_is_the_original_toy_value() -> None:
    assumptions = [
        policy("carbon_tax"),
        {
            "driver_type": "load_growth",
            "payload": {"annual_growth_pct": 2.5, "start_year": 2024, "end_year": 2027},
        },
        {
            "driver_type": "fuel_curve",
            "payload": {"fuel": "natural_gas", "reference_series": "HH", "basis_points_adjustment": 50},
        },
        {
            "driver_type": "fleet_change",
            "payload": {
                "fleet_id": "F",
                "change_type": "add",
                "effective_date": "2025-01-15",
                "capacity_mw": 400,
            },
        },
    ]
    result = run(*assumptions, base=[[50.0] * N_TENORS, [50.0] * N_TENORS])
    # original worker: policy len x 0.1; load 0.05 x g x (2025 - 2024 + 1) / (2027 - 2024 + 1);
    # fuel 0.004 x 50 + 50 x 50 / 10,000 + hash; fleet +400 / 100 x (1 + 0.5 x 0 / 24) (effective date passed)
    toy = round(
        50 + 10 * 0.1 + 0.05 * 2.5 * 2 / 4 + (0.004 * 50 + 50 * 50 / 10_000 + hash_term("HH")) + 4.0, 4
    )
    assert round(result.value[0, 0], 4) == toy
    assert round(result.value[1, 0], 4) == toy


# --- each driver over the tenor axis ----------------------------------------------------------------------


def test_policy_applies_from_its_start_year() -> None:
    result = run(policy("rps", start_year=2026))
    for c in range(2):
        for t, (year, _) in enumerate(MONTHS):
            assert result.value[c, t] == pytest.approx(BASE[c][t] + (0.3 if year >= 2026 else 0.0), abs=1e-12)


def expected_load_growth(g: float, start: int | None, end: int | None, t: int) -> float:
    year, month = MONTHS[t]
    # progress: the original's fraction of the start-end window elapsed, at the contract year
    eff_start = start if start is not None else year
    eff_end = end if end is not None and end >= eff_start else eff_start
    span = max(eff_end - eff_start + 1, 1)
    position = min(max(year, eff_start), eff_end)
    progress = 0.0 if start is not None and year < start else (position - eff_start + 1) / span
    # compounding: years of tenor inside the window, from max(as-of month, January of start) on
    opening = month_number(ASOF.year, ASOF.month)
    if start is not None:
        opening = max(opening, month_number(start, 1))
    closing = math.inf if end is None else max(month_number(max(end, start or end) + 1, 1), opening)
    in_force = min(max(month_number(year, month), opening), closing) - opening
    return 0.05 * g * progress * (1 + g / 100) ** (in_force / 12)


@pytest.mark.parametrize(
    ("start", "end"), [(2026, 2027), (None, None), (2025, None), (None, 2026), (2027, 2026)]
)
def test_load_growth_ramps_and_compounds_per_year_of_tenor(start: int | None, end: int | None) -> None:
    payload: dict[str, Any] = {"annual_growth_pct": 3.0}
    if start is not None:
        payload["start_year"] = start
    if end is not None:
        payload["end_year"] = end
    result = run({"driver_type": "load_growth", "payload": payload})
    for c in range(2):
        for t in range(N_TENORS):
            expected = BASE[c][t] + expected_load_growth(3.0, start, end, t)
            assert result.value[c, t] == pytest.approx(expected, abs=1e-12), (c, t)


def test_load_growth_scales_by_the_reference_curve_over_50() -> None:
    result = run(
        {
            "driver_type": "load_growth",
            "payload": {"annual_growth_pct": 3.0, "start_year": 2026, "reference_curve_key": "B"},
        }
    )
    for t in range(N_TENORS):
        move = expected_load_growth(3.0, 2026, None, t) * BASE_B[t] / 50
        assert result.value[0, t] == pytest.approx(BASE_A[t] + move, abs=1e-12)
        assert result.value[1, t] == pytest.approx(BASE_B[t] + move, abs=1e-12)


def test_fuel_curve_moves_each_tenor_by_its_own_or_the_reference_mid() -> None:
    own = run(
        {
            "driver_type": "fuel_curve",
            "payload": {"fuel": "coal", "reference_series": "API2", "basis_points_adjustment": 150},
        }
    )
    referenced = run(
        {
            "driver_type": "fuel_curve",
            "payload": {"fuel": "oil", "reference_series": "B", "basis_points_adjustment": -20},
        }
    )
    for c in range(2):
        for t in range(N_TENORS):
            expected_own = BASE[c][t] + (-0.003 + 0.015) * BASE[c][t] + hash_term("API2")
            expected_ref = BASE[c][t] + (0.005 - 0.002) * BASE_B[t] + hash_term("B")
            assert own.value[c, t] == pytest.approx(expected_own, abs=1e-12)
            assert referenced.value[c, t] == pytest.approx(expected_ref, abs=1e-12)


@pytest.mark.parametrize(
    ("change_type", "effective", "sign", "lead"),
    [("add", "2026-03-15", 1, 6), ("retire", "2028-06-01", -1, 33), ("retire", "2024-01-01", -1, 0)],
)
def test_fleet_change_applies_from_its_effective_month(
    change_type: str, effective: str, sign: int, lead: int
) -> None:
    result = run(
        {
            "driver_type": "fleet_change",
            "payload": {
                "fleet_id": "F",
                "change_type": change_type,
                "effective_date": effective,
                "capacity_mw": 300,
            },
        }
    )
    effective_month = month_number(int(effective[:4]), int(effective[5:7]))
    magnitude = sign * 300 / 100 * (1 + 0.5 * min(lead, 24) / 24)
    for c in range(2):
        for t, (year, month) in enumerate(MONTHS):
            move = magnitude if month_number(year, month) >= effective_month else 0.0
            assert result.value[c, t] == pytest.approx(BASE[c][t] + move, abs=1e-12)


def test_time_series_seasonal_within_its_horizon_with_explicit_months() -> None:
    result = run(
        {
            "driver_type": "time_series",
            "payload": {
                "series_type": "seasonal",
                "base_values": {"level": 0.5, "2027-06": -4.0},
                "seasonal_params": {"amplitude": 3.0, "peak_month": 1},
                "forecast_horizon": 12,
            },
        }
    )
    for c in range(2):
        for t, (year, month) in enumerate(MONTHS):
            move = 0.5 + 3.0 * math.cos(2 * math.pi * (month - 1) / 12) if t < 12 else 0.0
            if (year, month) == (2027, 6):
                move = -4.0
            assert result.value[c, t] == pytest.approx(BASE[c][t] + move, abs=1e-12)


def test_time_series_trend_and_cycle() -> None:
    trend = run(
        {
            "driver_type": "time_series",
            "payload": {
                "series_type": "trend",
                "base_values": {},
                "trend_params": {"slope": 1.2, "growth_pct": 4.0},
            },
        }
    )
    cycle = run(
        {
            "driver_type": "time_series",
            "payload": {
                "series_type": "cyclical",
                "base_values": {"level": 1.0},
                "seasonal_params": {"amplitude": 2.0, "period_months": 18, "phase_months": 3},
                "forecast_horizon": 60,
            },
        }
    )
    monthly = run(
        {
            "driver_type": "time_series",
            "payload": {
                "series_type": "seasonal",
                "base_values": {},
                "seasonal_params": {"monthly": {"1": 4.0, "7": 2.5}},
            },
        }
    )
    for c in range(2):
        for t, (_, month) in enumerate(MONTHS):
            years = t / 12  # tenor t is t months after the as-of month
            expected_trend = 1.2 * years + BASE[c][t] * (1.04**years - 1)
            assert trend.value[c, t] == pytest.approx(BASE[c][t] + expected_trend, abs=1e-12)
            expected_cycle = 1.0 + 2.0 * math.sin(2 * math.pi * (t + 3) / 18)
            assert cycle.value[c, t] == pytest.approx(BASE[c][t] + expected_cycle, abs=1e-12)
            expected_monthly = {1: 4.0, 7: 2.5}.get(month, 0.0)
            assert monthly.value[c, t] == pytest.approx(BASE[c][t] + expected_monthly, abs=1e-12)


# --- conditional and composite ----------------------------------------------------------------------------

WINTER = {"field": "calendar_month", "operator": "in", "value": [12, 1, 2]}
FUEL = {"driver_type": "fuel_curve", "payload": {"fuel": "natural_gas", "reference_series": "HH"}}


def fuel_move(c: int, t: int) -> float:
    return 0.004 * BASE[c][t] + hash_term("HH")


def test_conditional_picks_a_driver_per_curve_and_tenor() -> None:
    result = run(
        {
            "driver_type": "conditional",
            "payload": {
                "conditions": [WINTER, {"field": "curve_key", "operator": "=", "value": "B"}],
                "evaluation_logic": "any",
                "true_driver": policy("freeze"),
                "false_driver": FUEL,
            },
        }
    )
    for c in range(2):
        for t, (_, month) in enumerate(MONTHS):
            move = 0.6 if (month in (12, 1, 2) or c == 1) else fuel_move(c, t)
            assert result.value[c, t] == pytest.approx(BASE[c][t] + move, abs=1e-12)


def test_conditional_custom_logic_and_base_price() -> None:
    result = run(
        {
            "driver_type": "conditional",
            "payload": {
                "conditions": [
                    WINTER,
                    {"field": "base_price", "operator": ">", "value": 45},
                    {"field": "contract_month", "operator": "between", "value": ["2026-01", "2026-12"]},
                ],
                "evaluation_logic": "custom",
                "custom_logic": "(0 or 1) and not 2",
                "true_driver": policy("spike"),
            },
        }
    )
    for c in range(2):
        for t, (year, month) in enumerate(MONTHS):
            holds = (month in (12, 1, 2) or BASE[c][t] > 45) and year != 2026
            assert result.value[c, t] == pytest.approx(BASE[c][t] + (0.5 if holds else 0.0), abs=1e-12)


def test_additive_composite_weights_components_and_attributes_each() -> None:
    result = run(
        {
            "driver_type": "composite",
            "name": "mix",
            "payload": {
                "components": [policy("abcd"), FUEL],
                "composition_type": "additive",
                "weights": {"policy": 0.5, "1": 2.0},
            },
        }
    )
    for c in range(2):
        for t in range(N_TENORS):
            assert result.attribution["mix.policy"][c, t] == pytest.approx(0.5 * 0.4, abs=1e-12)
            assert result.attribution["mix.fuel_curve"][c, t] == pytest.approx(
                2.0 * fuel_move(c, t), abs=1e-12
            )
            assert result.value[c, t] == pytest.approx(BASE[c][t] + 0.2 + 2.0 * fuel_move(c, t), abs=1e-12)


def test_multiplicative_composite_compounds_and_splits_by_shapley() -> None:
    result = run(
        {
            "driver_type": "composite",
            "payload": {"components": [policy("abcdefghij"), FUEL], "composition_type": "multiplicative"},
        }
    )
    for c in range(2):
        for t in range(N_TENORS):
            base = BASE[c][t]
            r1, r2 = 1.0 / base, fuel_move(c, t) / base
            total = base * ((1 + r1) * (1 + r2) - 1)
            # two players: each gets its own move plus half the cross term
            assert result.value[c, t] == pytest.approx(base + total, abs=1e-12)
            assert result.attribution["composite.policy"][c, t] == pytest.approx(
                base * (r1 + r1 * r2 / 2), abs=1e-12
            )
            assert result.attribution["composite.fuel_curve"][c, t] == pytest.approx(
                base * (r2 + r1 * r2 / 2), abs=1e-12
            )


def test_shapley_attribution_of_three_multiplicative_components_is_order_free() -> None:
    components = [
        policy("abcdefghij"),
        FUEL,
        {
            "driver_type": "fleet_change",
            "payload": {
                "fleet_id": "F",
                "change_type": "retire",
                "effective_date": "2024-01-01",
                "capacity_mw": 250,
            },
        },
    ]
    forward = run(
        {
            "driver_type": "composite",
            "payload": {"components": components, "composition_type": "multiplicative"},
        }
    )
    backward = run(
        {
            "driver_type": "composite",
            "payload": {"components": components[::-1], "composition_type": "multiplicative"},
        }
    )
    for label in ("policy", "fuel_curve", "fleet_change"):
        np.testing.assert_allclose(
            forward.attribution[f"composite.{label}"],
            backward.attribution[f"composite.{label}"],
            rtol=0,
            atol=1e-12,
        )
    c, t = 1, 5
    base = BASE[c][t]
    r = [1.0 / base, fuel_move(c, t) / base, -2.5 / base]
    # Shapley by brute force over the 3! orders of arrival
    orders = [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]
    shapley = [0.0, 0.0, 0.0]
    for order in orders:
        level = 1.0
        for player in order:
            shapley[player] += base * level * r[player] / len(orders)
            level *= 1 + r[player]
    for player, label in enumerate(("policy", "fuel_curve", "fleet_change")):
        assert forward.attribution[f"composite.{label}"][c, t] == pytest.approx(shapley[player], abs=1e-12)


def test_conditional_composite_takes_the_first_matching_component() -> None:
    result = run(
        {
            "driver_type": "composite",
            "payload": {
                "composition_type": "conditional",
                "components": [
                    {**policy("winter"), "conditions": [WINTER]},
                    {**FUEL, "conditions": [{"field": "contract_year", "operator": ">=", "value": 2027}]},
                    policy("ab"),
                ],
            },
        }
    )
    for c in range(2):
        for t, (year, month) in enumerate(MONTHS):
            if month in (12, 1, 2):
                move, label = 0.6, "composite.policy"
            elif year >= 2027:
                move, label = fuel_move(c, t), "composite.fuel_curve"
            else:
                move, label = 0.2, "composite.policy#2"
            assert result.value[c, t] == pytest.approx(BASE[c][t] + move, abs=1e-12)
            assert result.attribution[label][c, t] == pytest.approx(move, abs=1e-12)


# --- attribution, rows, errors ----------------------------------------------------------------------------

EIGHT = [
    policy("carbon_tax", 2026),
    {
        "driver_type": "load_growth",
        "payload": {"annual_growth_pct": 2.0, "start_year": 2025, "end_year": 2027},
    },
    FUEL,
    {
        "driver_type": "fleet_change",
        "payload": {
            "fleet_id": "F",
            "change_type": "retire",
            "effective_date": "2026-06-01",
            "capacity_mw": 800,
        },
    },
    {
        "driver_type": "composite",
        "payload": {"components": [policy("x"), FUEL], "composition_type": "additive"},
    },
    {
        "driver_type": "conditional",
        "payload": {"conditions": [WINTER], "true_driver": policy("winter"), "false_driver": policy("ab")},
    },
    {
        "driver_type": "time_series",
        "payload": {
            "series_type": "seasonal",
            "base_values": {"level": 1.0},
            "seasonal_params": {"amplitude": 2.0},
        },
    },
    {
        "driver_type": "stochastic",
        "payload": {"distribution_type": "normal", "parameters": {"std": 0.0}, "base_driver": policy("vol")},
    },
]


def test_attribution_sums_to_the_total_move_for_additive_compositions() -> None:
    result = run(*EIGHT)
    total = np.zeros((2, N_TENORS))
    for values in result.attribution.values():
        total += values
    np.testing.assert_allclose(total, result.value - result.base, rtol=0, atol=1e-12)
    assert list(result.attribution) == [
        "policy",
        "load_growth",
        "fuel_curve",
        "fleet_change",
        "composite.policy",
        "composite.fuel_curve",
        "conditional",
        "time_series",
        "stochastic",
    ]


def test_deterministic_band_is_two_percent_of_the_value() -> None:
    result = run(policy("rps"), base=[[-10.0] * N_TENORS, BASE_B])
    np.testing.assert_allclose(result.band_lower[0], -9.7 - 0.194)
    np.testing.assert_allclose(result.band_upper[1], (np.array(BASE_B) + 0.3) * 1.02)
    assert result.path_mean is None


def test_output_rows_follow_the_scenario_output_columns() -> None:
    base = [list(BASE_A), list(BASE_B)]
    base[1][3] = math.nan  # no quote: no row
    result = run(policy("rps", 2026), FUEL, base=base)
    rows = scenario_output_rows(
        result,
        asof_date=ASOF,
        scenario_id="scn",
        tenant_id="acme",
        run_id="run-1",
        version_hash="abc",
        metrics=("mid", "uplift"),
    )
    assert len(rows) == 2 * (2 * N_TENORS - 1)
    assert list(rows[0]) == [
        "asof_date",
        "scenario_id",
        "tenant_id",
        "run_id",
        "curve_key",
        "tenor_type",
        "contract_month",
        "tenor_label",
        "metric",
        "value",
        "band_lower",
        "band_upper",
        "attribution",
        "version_hash",
        "computed_ts",
        "_ingest_ts",
    ]
    first = rows[0]
    assert (first["curve_key"], first["tenor_label"], first["contract_month"], first["metric"]) == (
        "A",
        "2025-09",
        date(2025, 9, 1),
        "mid",
    )
    assert first["value"] == pytest.approx(BASE_A[0] + fuel_move(0, 0), abs=1e-12)
    assert first["attribution"] == [{"component": "fuel_curve", "delta": pytest.approx(fuel_move(0, 0))}]
    later = next(
        r for r in rows if r["curve_key"] == "B" and r["tenor_label"] == "2026-02" and r["metric"] == "uplift"
    )
    assert later["value"] == pytest.approx(0.3 + fuel_move(1, 5), abs=1e-12)
    assert [a["component"] for a in later["attribution"]] == ["policy", "fuel_curve"]
    assert not [r for r in rows if r["curve_key"] == "B" and r["tenor_label"] == "2025-12"]


def test_invalid_assumptions_raise_with_every_issue() -> None:
    with pytest.raises(ScenarioValidationError) as caught:
        run({"driver_type": "policy", "payload": {}}, {"driver_type": "tarot", "payload": {}})
    assert {issue.code for issue in caught.value.issues} == {
        "REQUIRED_FIELD_MISSING",
        "UNSUPPORTED_DRIVER_TYPE",
    }


def test_a_cancelled_deterministic_run_raises_before_any_work() -> None:
    with pytest.raises(RunCancelled):
        run_scenario(curves(), [policy("x")], asof=ASOF, options=EngineOptions(should_cancel=lambda: True))


def test_curve_set_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="shape"):
        CurveSet(
            curve_keys=("A",),
            tenor_labels=("2025-09",),
            contract_months=np.array(["2025-09"], dtype="datetime64[M]"),
            mid=np.zeros((2, 1)),
        )


def test_nested_composites_pass_their_weights_down_to_leaf_parts() -> None:
    retire = {
        "driver_type": "fleet_change",
        "payload": {
            "fleet_id": "F",
            "change_type": "retire",
            "effective_date": "2024-01-01",
            "capacity_mw": 50,
        },
    }
    inner = {
        "driver_type": "composite",
        "name": "inner",
        "payload": {"components": [policy("abcde"), retire]},
    }
    result = run(
        {
            "driver_type": "composite",
            "name": "outer",
            "payload": {"components": [inner, FUEL], "weights": {"inner": 2.0}},
        }
    )
    # policy +0.5 and retirement -0.5 cancel inside, yet each keeps its own (doubled) attribution
    assert set(result.attribution) == {"outer.inner.policy", "outer.inner.fleet_change", "outer.fuel_curve"}
    for c in range(2):
        for t in range(N_TENORS):
            assert result.attribution["outer.inner.policy"][c, t] == pytest.approx(1.0, abs=1e-12)
            assert result.attribution["outer.inner.fleet_change"][c, t] == pytest.approx(-1.0, abs=1e-12)
            assert result.value[c, t] == pytest.approx(BASE[c][t] + fuel_move(c, t), abs=1e-12)
    assert result.attribution_types["outer.inner.fleet_change"] == "fleet_change"
