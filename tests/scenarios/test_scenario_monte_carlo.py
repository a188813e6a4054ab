"""Monte Carlo through the stochastic driver: reproducibility, band ordering, collapse at zero volatility,
convergence to closed-form means and quantiles, chunking, correlation and cancellation.

Closed forms (tau = months ahead / 12, X = base + base-driver move):
    normal      value = X (1 + mean tau + std W(tau))
                mean X (1 + mean tau), q_p = X (1 + mean tau + z_p std sqrt(tau))
    lognormal   value = X exp((mu - s^2/2) tau + s W(tau))
                mean X e^(mu tau), q_p = X exp((mu - s^2/2) tau + z_p s sqrt(tau))
    uniform     value = X (1 + sqrt(tau) U(low, high)),  triangular likewise with T(low, mode, high).
Tolerances are 4.5 standard errors of the estimator (mean: sd / sqrt(N); quantile: sqrt(p(1-p)/N) / pdf).
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np
import pytest

from apps.scenarios.engine import CurveSet, EngineOptions, RunCancelled, ScenarioResult, run_scenario
from apps.scenarios.engine.monte_carlo import quantiles_last_axis, simulate_factors

ASOF = date(2025, 9, 12)
N_TENORS = 24
LABELS = [f"{2025 + (8 + t) // 12}-{(8 + t) % 12 + 1:02d}" for t in range(N_TENORS)]
BASE_A = [40.0 + 0.5 * t for t in range(N_TENORS)]
BASE_NEGATIVE = [-20.0 + 0.1 * t for t in range(N_TENORS)]  # negative power prices flip the band
Z90 = 1.2815515655446004  # standard normal 90% quantile
PDF90 = math.exp(-Z90 * Z90 / 2) / math.sqrt(2 * math.pi)
N_PATHS = 20_000


def curves() -> CurveSet:
    return CurveSet(
        curve_keys=("A", "NEG"),
        tenor_labels=tuple(LABELS),
        contract_months=np.array(LABELS, dtype="datetime64[M]"),
        mid=np.array([BASE_A, BASE_NEGATIVE]),
    )


def stochastic(
    distribution: str,
    parameters: dict[str, float],
    name: str | None = None,
    policy_name: str = "vol",
    **extra: Any,
) -> dict[str, Any]:
    node: dict[str, Any] = {
        "driver_type": "stochastic",
        "payload": {
            "distribution_type": distribution,
            "parameters": parameters,
            "base_driver": {"driver_type": "policy", "payload": {"policy_name": policy_name}},
            **extra,
        },
    }
    if name:
        node["name"] = name
    return node


def run(*assumptions: dict[str, Any], **options: Any) -> ScenarioResult:
    return run_scenario(
        curves(),
        list(assumptions),
        asof=ASOF,
        options=EngineOptions(**{"n_paths": N_PATHS, "seed": 11, **options}),
    )


def level(c: int, t: int) -> float:
    """base + the base driver's move (policy 'vol': 3 characters x 0.1)."""
    return [BASE_A, BASE_NEGATIVE][c][t] + 0.3


def test_same_seed_same_outputs_and_another_seed_differs() -> None:
    driver = stochastic("lognormal", {"mu": 0.02, "sigma": 0.3})
    first, again, other = run(driver, seed=5), run(driver, seed=5), run(driver, seed=6)
    for name in ("value", "band_lower", "band_upper", "path_mean"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
        assert not np.array_equal(getattr(first, name)[:, 1:], getattr(other, name)[:, 1:])


def test_chunking_does_not_change_the_paths() -> None:
    driver = stochastic("normal", {"std": 0.2})
    whole = run(driver, n_paths=3000, chunk_paths=3000)
    pieces = run(driver, n_paths=3000, chunk_paths=333)
    np.testing.assert_array_equal(whole.value, pieces.value)
    np.testing.assert_array_equal(whole.band_upper, pieces.band_upper)


@pytest.mark.parametrize(
    ("distribution", "parameters"),
    [
        ("normal", {"mean": 0.05, "std": 0.3}),
        ("lognormal", {"mu": -0.1, "sigma": 0.5}),
        ("uniform", {"low": -0.2, "high": 0.4}),
        ("triangular", {"low": -0.3, "mode": 0.0, "high": 0.1}),
    ],
)
def test_p10_le_p50_le_p90_everywhere(distribution: str, parameters: dict[str, float]) -> None:
    result = run(stochastic(distribution, parameters), n_paths=4000)
    assert np.all(result.band_lower <= result.value)
    assert np.all(result.value <= result.band_upper)
    assert np.all(result.band_lower[:, 1:] < result.band_upper[:, 1:])  # a real band after the as-of month


def test_zero_volatility_collapses_the_band_to_the_deterministic_value() -> None:
    result = run(
        stochastic("normal", {"std": 0.0}),
        stochastic("uniform", {"low": 0.0, "high": 0.0}, name="flat"),
        n_paths=2000,
    )
    expected = np.array(
        [[level(c, t) + 0.3 for t in range(N_TENORS)] for c in range(2)]
    )  # two "vol" policies
    for name in ("value", "band_lower", "band_upper", "path_mean"):
        np.testing.assert_allclose(getattr(result, name), expected, rtol=0, atol=1e-12)


def test_no_uncertainty_at_the_as_of_month() -> None:
    result = run(stochastic("lognormal", {"sigma": 0.8}), n_paths=2000)
    np.testing.assert_allclose(result.band_lower[:, 0], [level(0, 0), level(1, 0)], rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.band_upper[:, 0], [level(0, 0), level(1, 0)], rtol=0, atol=1e-12)


def test_normal_paths_converge_to_the_closed_form() -> None:
    mean, std = 0.06, 0.25
    result = run(stochastic("normal", {"mean": mean, "std": std}))
    path_mean = result.path_mean
    assert path_mean is not None
    for c in range(2):
        for t in range(1, N_TENORS):
            tau = t / 12
            x = level(c, t)
            spread = abs(x) * std * math.sqrt(tau)
            assert path_mean[c, t] == pytest.approx(
                x * (1 + mean * tau), abs=4.5 * spread / math.sqrt(N_PATHS)
            )
            q_error = 4.5 * math.sqrt(0.09 / N_PATHS) / PDF90 * spread
            assert result.value[c, t] == pytest.approx(
                x * (1 + mean * tau), abs=4.5 * 1.2533 * spread / math.sqrt(N_PATHS)
            )
            upper, lower = x * (1 + mean * tau) + Z90 * spread, x * (1 + mean * tau) - Z90 * spread
            assert result.band_upper[c, t] == pytest.approx(upper, abs=q_error)
            assert result.band_lower[c, t] == pytest.approx(lower, abs=q_error)


def test_lognormal_paths_converge_to_the_closed_form() -> None:
    mu, sigma = 0.05, 0.4
    result = run(stochastic("lognormal", {"mu": mu, "sigma": sigma}))
    path_mean = result.path_mean
    assert path_mean is not None
    for c in range(2):
        for t in (1, 6, 12, 23):
            tau = t / 12
            x = level(c, t)
            mean_f = math.exp(mu * tau)
            sd_f = mean_f * math.sqrt(math.exp(sigma * sigma * tau) - 1)
            assert path_mean[c, t] == pytest.approx(x * mean_f, abs=4.5 * abs(x) * sd_f / math.sqrt(N_PATHS))
            drift, vol = (mu - sigma * sigma / 2) * tau, sigma * math.sqrt(tau)
            q90 = math.exp(drift + Z90 * vol)
            # delta method: se(q) = sqrt(p(1-p)/N) / pdf_F(q), pdf_F(q) = phi(z) / (q vol)
            q_error = 4.5 * math.sqrt(0.09 / N_PATHS) * q90 * vol / PDF90
            high, low = (
                (x * q90, x * math.exp(drift - Z90 * vol))
                if x > 0
                else (x * math.exp(drift - Z90 * vol), x * q90)
            )
            assert result.band_upper[c, t] == pytest.approx(high, abs=abs(x) * q_error)
            assert result.band_lower[c, t] == pytest.approx(low, abs=abs(x) * q_error)
            assert result.value[c, t] == pytest.approx(x * math.exp(drift), abs=abs(x) * q_error)


def test_uniform_and_triangular_have_the_named_distribution_at_one_year() -> None:
    uniform = run(stochastic("uniform", {"low": -0.2, "high": 0.4}))
    triangular = run(stochastic("triangular", {"low": -0.3, "mode": 0.0, "high": 0.15}))
    uniform_mean, triangular_mean = uniform.path_mean, triangular.path_mean
    assert uniform_mean is not None
    assert triangular_mean is not None
    t = 12  # one year of tenor
    x = level(0, t)
    q_error = 4.5 * math.sqrt(0.09 / N_PATHS) * 0.6  # uniform pdf is 1 / 0.6
    assert uniform.band_lower[0, t] == pytest.approx(x * (1 - 0.2 + 0.1 * 0.6), abs=x * q_error)
    assert uniform.band_upper[0, t] == pytest.approx(x * (1 - 0.2 + 0.9 * 0.6), abs=x * q_error)
    for t in (3, 12, 23):
        root = math.sqrt(t / 12)
        x = level(0, t)
        sd_u = 0.6 / math.sqrt(12)
        assert uniform_mean[0, t] == pytest.approx(
            x * (1 + root * 0.1), abs=4.5 * x * root * sd_u / math.sqrt(N_PATHS)
        )
        a, m, b = -0.3, 0.0, 0.15
        sd_t = math.sqrt((a * a + m * m + b * b - a * m - a * b - m * b) / 18)
        assert triangular_mean[0, t] == pytest.approx(
            x * (1 + root * (a + m + b) / 3), abs=4.5 * x * root * sd_t / math.sqrt(N_PATHS)
        )


def test_attribution_of_a_stochastic_run_sums_to_its_median_move() -> None:
    result = run(
        {"driver_type": "policy", "payload": {"policy_name": "cap"}},
        stochastic("normal", {"std": 0.2}, name="power"),
        stochastic(
            "lognormal",
            {"sigma": 0.3},
            name="gas",
            policy_name="gasvol",
            correlation_matrix={"gas": {"power": 0.7}},
        ),
        n_paths=5000,
    )
    total = sum(result.attribution.values())
    np.testing.assert_allclose(total, result.value - result.base, rtol=0, atol=1e-9)
    assert set(result.attribution) == {"policy", "power", "gas", "interaction"}
    assert result.attribution_types["interaction"] == "interaction"


def test_several_drivers_mix_paths_like_one_when_the_extra_one_is_silent() -> None:
    one = run(stochastic("lognormal", {"sigma": 0.3}), n_paths=4000)
    two = run(
        stochastic("lognormal", {"sigma": 0.3}),
        stochastic("normal", {"std": 0.0}, name="silent"),
        n_paths=4000,
        block_elements=4000 * N_TENORS,
    )  # one curve per block
    for name in ("band_lower", "value", "band_upper"):
        np.testing.assert_allclose(getattr(two, name), getattr(one, name) + 0.3, rtol=0, atol=1e-9)


def test_drivers_correlate_through_their_brownian_increments() -> None:
    tau = np.arange(1, 13) / 12.0

    def increments(rho: float) -> np.ndarray:
        options = EngineOptions(n_paths=20_000, seed=3)
        factors = simulate_factors(
            [lambda w, _: w, lambda w, _: w], tau, np.array([[1, rho], [rho, 1]]), options
        )
        return np.diff(factors, axis=1).reshape(2, -1)  # (drivers, tenor times, paths)

    for rho in (0.7, -0.4, 1.0):
        estimate = np.corrcoef(increments(rho))[0, 1]
        assert estimate == pytest.approx(rho, abs=0.01)


def test_cancel_after_the_first_chunk_processes_no_further_chunk() -> None:
    progress: list[float] = []
    with pytest.raises(RunCancelled):
        run(
            stochastic("normal", {"std": 0.2}),
            n_paths=5000,
            chunk_paths=500,
            on_progress=progress.append,
            should_cancel=lambda: len(progress) >= 1,
        )
    assert progress == [0.1]


def test_progress_reaches_one() -> None:
    progress: list[float] = []
    run(stochastic("normal", {"std": 0.2}), n_paths=1000, chunk_paths=250, on_progress=progress.append)
    assert progress == [0.25, 0.5, 0.75, 1.0]


def test_partition_quantiles_match_numpy_linear_quantiles() -> None:
    values = np.random.default_rng(2).standard_normal((3, 5, 1001))
    for probabilities in ((0.1, 0.5, 0.9), (0.0, 1.0), (0.25, 0.333, 0.77)):
        np.testing.assert_allclose(
            quantiles_last_axis(values, probabilities),
            np.quantile(values, probabilities, axis=-1),
            rtol=0,
            atol=1e-14,
        )
