"""`run_scenario`: move base curves by a scenario's assumptions, tenor by tenor.

Top-level assumptions combine additively, as in the original worker: value = base + sum of driver effects, so
each assumption's effect is its attribution. A composite's internal attribution is its own (see
`apps.scenarios.drivers.composite`) and shows up as `<composite label>.<component label>` entries. Stochastic
drivers add price-level noise on top (see `apps.scenarios.drivers.stochastic`); then the value is the path
median and each stochastic driver is attributed its own median move, E_i + coef_i x (median(F_i) - 1); with
several stochastic drivers the median of the sum differs from the sum of medians and the remainder is
attributed to `interaction`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from apps.scenarios.drivers import evaluate_node, get_driver, node_labels, validate_assumptions
from apps.scenarios.drivers.base import EffectContext, FloatArray, has_errors
from apps.scenarios.drivers.stochastic import correlation_matrix
from apps.scenarios.engine.monte_carlo import (
    check_cancel,
    level_quantiles,
    quantiles_last_axis,
    simulate_factors,
)
from apps.scenarios.engine.types import CurveSet, EngineOptions, ScenarioResult, ScenarioValidationError

INTERACTION = "interaction"


class _Stochastic(NamedTuple):
    label: str
    payload: Mapping[str, Any]
    shock: Callable[[FloatArray, FloatArray], FloatArray]


def _reference_curves(curves: CurveSet, options: EngineOptions) -> dict[str, FloatArray]:
    n_tenors = len(curves.tenor_labels)
    references = {
        key: np.broadcast_to(np.asarray(values, dtype=np.float64), (n_tenors,))
        for key, values in options.reference_curves.items()
    }
    references.update(zip(curves.curve_keys, curves.mid, strict=True))
    return references


def _deterministic_band(value: FloatArray, options: EngineOptions) -> tuple[FloatArray, FloatArray]:
    spread = np.abs(value) * options.deterministic_band
    return value - spread, value + spread


def run_scenario(
    curves: CurveSet,
    assumptions: Sequence[Mapping[str, Any]],
    *,
    asof: date,
    options: EngineOptions | None = None,
) -> ScenarioResult:
    """The scenario curves for `assumptions` applied to `curves` as of `asof`.

    Raises ScenarioValidationError when the assumptions have validation errors and RunCancelled when
    `options.should_cancel` says so (checked before any work and between chunks).
    """
    options = options or EngineOptions()
    assumptions = list(assumptions)
    issues = validate_assumptions(assumptions)
    if has_errors(issues):
        raise ScenarioValidationError(issues)
    check_cancel(options)
    ctx = EffectContext(
        asof=asof,
        base=curves.mid,
        curve_keys=curves.curve_keys,
        tenor_types=curves.tenor_types,
        month_index=curves.month_index,
        reference_curves=_reference_curves(curves, options),
        base_value=options.base_value,
    )

    attribution: dict[str, FloatArray] = {}
    attribution_types: dict[str, str] = {}
    stochastic: list[_Stochastic] = []
    for label, node in zip(node_labels(assumptions), assumptions, strict=True):
        effect = evaluate_node(node, ctx)
        if effect.parts:
            for part in effect.parts:
                attribution[f"{label}.{part.label}"] = part.values
                attribution_types[f"{label}.{part.label}"] = part.driver_type
        else:
            attribution[label] = effect.total
            attribution_types[label] = node["driver_type"]
        driver = get_driver(node["driver_type"])
        if driver is not None and driver.shock is not None:
            payload = driver.with_defaults(node.get("payload") or {})
            stochastic.append(_Stochastic(label, payload, partial(driver.shock, payload)))

    deterministic = (
        curves.mid + np.sum(list(attribution.values()), axis=0) if attribution else curves.mid.copy()
    )
    lower, upper = _deterministic_band(deterministic, options)
    result = ScenarioResult(
        curve_keys=curves.curve_keys,
        tenor_labels=curves.tenor_labels,
        tenor_types=curves.tenor_types,
        contract_months=curves.contract_months,
        base=curves.mid,
        value=deterministic,
        band_lower=lower,
        band_upper=upper,
        attribution=attribution,
        attribution_types=attribution_types,
    )
    if not stochastic:
        if options.on_progress is not None:
            options.on_progress(1.0)
        return result
    return _with_monte_carlo(result, ctx, stochastic, options)


def _with_monte_carlo(
    deterministic: ScenarioResult,
    ctx: EffectContext,
    stochastic: Sequence[_Stochastic],
    options: EngineOptions,
) -> ScenarioResult:
    """The deterministic result with the stochastic drivers' noise: median value, quantile band, path mean."""
    attribution = dict(deterministic.attribution)
    attribution_types = dict(deterministic.attribution_types)
    labels = [driver.label for driver in stochastic]
    tau, tenor_of = np.unique(np.maximum(ctx.months_ahead, 0) / 12.0, return_inverse=True)
    correlation = correlation_matrix(labels, [driver.payload["correlation_matrix"] for driver in stochastic])
    factors = simulate_factors([driver.shock for driver in stochastic], tau, correlation, options)

    # each stochastic driver scales the price level its base driver leaves: base + its own deterministic move
    coefs = [ctx.base + attribution[label] for label in labels]
    low, high = options.band_quantiles
    offset = deterministic.value
    lower, value, upper = level_quantiles(factors, tenor_of, offset, coefs, (low, 0.5, high), options)
    medians = quantiles_last_axis(factors, [0.5])[0][:, tenor_of]
    means = factors.mean(axis=-1)[:, tenor_of]
    for label, coef, median in zip(labels, coefs, medians, strict=True):
        attribution[label] = attribution[label] + coef * (median - 1.0)
    if len(labels) > 1:
        attribution[INTERACTION] = value - ctx.base - np.sum(list(attribution.values()), axis=0)
        attribution_types[INTERACTION] = INTERACTION
    path_mean = offset + np.sum(
        [coef * (mean - 1.0) for coef, mean in zip(coefs, means, strict=True)], axis=0
    )
    return replace(
        deterministic,
        value=value,
        band_lower=lower,
        band_upper=upper,
        attribution=attribution,
        attribution_types=attribution_types,
        path_mean=path_mean,
        n_paths=options.n_paths,
        seed=options.seed,
    )
