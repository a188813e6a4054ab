"""Scenario engine wall times (median of 5 runs).

    .venv/bin/python bench/scenario_engine.py

Monte Carlo: 10k paths x 121 monthly tenors for 1 and for 50 curves (one lognormal driver), plus two
correlated stochastic drivers over 50 curves, first sharing one mix of the two factors, then with a different
mix in every cell (the worst case: 6,050 separate quantile problems); deterministic: 8 drivers over 400 curves
x 121 tenors, and turning that result into scenario_output rows (Arrow table, dicts).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np

from apps.scenarios.engine import (
    CurveSet,
    EngineOptions,
    run_scenario,
    scenario_output_rows,
    scenario_output_table,
)

ASOF = date(2025, 9, 12)
N_TENORS = 121
REPEATS = 5

POLICY = {"driver_type": "policy", "payload": {"policy_name": "carbon_tax", "start_year": 2027}}
FUEL = {"driver_type": "fuel_curve", "payload": {"fuel": "natural_gas", "reference_series": "HH"}}
EIGHT_DRIVERS: list[dict[str, Any]] = [
    POLICY,
    {
        "driver_type": "load_growth",
        "payload": {"annual_growth_pct": 2.0, "start_year": 2026, "end_year": 2032},
    },
    {
        "driver_type": "fuel_curve",
        "payload": {"fuel": "co2", "reference_series": "EUA", "basis_points_adjustment": 40},
    },
    {
        "driver_type": "fleet_change",
        "payload": {
            "fleet_id": "F1",
            "change_type": "retire",
            "effective_date": "2027-06-01",
            "capacity_mw": 900,
        },
    },
    {
        "driver_type": "composite",
        "payload": {"components": [POLICY, FUEL], "composition_type": "multiplicative"},
    },
    {
        "driver_type": "conditional",
        "payload": {
            "conditions": [{"field": "calendar_month", "operator": "in", "value": [12, 1, 2]}],
            "true_driver": {"driver_type": "policy", "payload": {"policy_name": "winter"}},
            "false_driver": FUEL,
        },
    },
    {
        "driver_type": "time_series",
        "payload": {
            "series_type": "seasonal",
            "base_values": {"level": 0.5},
            "seasonal_params": {"amplitude": 3.0, "peak_month": 1},
            "forecast_horizon": 121,
        },
    },
    {
        "driver_type": "stochastic",
        "payload": {"distribution_type": "normal", "parameters": {"std": 0.0}, "base_driver": {}},
    },
]


def stochastic(name: str, sigma: float, correlations: dict[str, float] | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "distribution_type": "lognormal",
        "parameters": {"sigma": sigma},
        "base_driver": {},
    }
    if correlations:
        payload["correlation_matrix"] = {name: correlations}
    return {"driver_type": "stochastic", "name": name, "payload": payload}


def curves(n_curves: int) -> CurveSet:
    months = np.datetime64("2025-09") + np.arange(N_TENORS)
    rng = np.random.default_rng(0)
    mid = 40 + 20 * rng.random((n_curves, 1)) + 5 * np.sin(np.arange(N_TENORS) / 6)[None, :]
    return CurveSet(
        curve_keys=tuple(f"curve-{i}" for i in range(n_curves)),
        tenor_labels=tuple(str(m) for m in months),
        contract_months=months,
        mid=mid,
    )


def median_seconds(work: Callable[[], object]) -> float:
    work()  # warm-up
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    one, fifty, four_hundred = curves(1), curves(50), curves(400)
    mc = EngineOptions(n_paths=10_000, seed=1)
    mixed = [stochastic("power", 0.35), stochastic("gas", 0.5, {"power": 0.6})]
    # a fuel base driver gives "gas" a different coefficient per curve and tenor, so no two cells share a mix
    skewed = [mixed[0], {**mixed[1], "payload": {**mixed[1]["payload"], "base_driver": FUEL}}]
    deterministic = run_scenario(four_hundred, EIGHT_DRIVERS, asof=ASOF)
    row_options: dict[str, Any] = {"asof_date": ASOF, "scenario_id": "s", "tenant_id": "t", "run_id": "r"}
    cases: list[tuple[str, Callable[[], object]]] = [
        (
            "Monte Carlo 10k paths x 121 tenors, 1 curve",
            lambda: run_scenario(one, [stochastic("p", 0.35)], asof=ASOF, options=mc),
        ),
        (
            "Monte Carlo 10k paths x 121 tenors, 50 curves",
            lambda: run_scenario(fifty, [stochastic("p", 0.35)], asof=ASOF, options=mc),
        ),
        (
            "Monte Carlo 10k x 121, 50 curves, 2 correlated drivers",
            lambda: run_scenario(fifty, mixed, asof=ASOF, options=mc),
        ),
        (
            "  same, every cell its own mix (worst case)",
            lambda: run_scenario(fifty, skewed, asof=ASOF, options=mc),
        ),
        (
            "Deterministic 8 drivers, 400 curves x 121 tenors",
            lambda: run_scenario(four_hundred, EIGHT_DRIVERS, asof=ASOF),
        ),
        (
            "scenario_output Arrow table, 400 x 121 (48,400 rows)",
            lambda: scenario_output_table(deterministic, **row_options),
        ),
        (
            "scenario_output row dicts, 400 x 121 (48,400 rows)",
            lambda: scenario_output_rows(deterministic, **row_options),
        ),
    ]
    print(f"median of {REPEATS} runs")
    for name, work in cases:
        print(f"{name:<58} {median_seconds(work) * 1000:9.1f} ms")


if __name__ == "__main__":
    main()
