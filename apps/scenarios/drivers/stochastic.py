"""`stochastic`: Monte Carlo uncertainty on the price level, around a deterministic base driver.

Per path, the driver moves a curve by E(c, t) + (B(c, t) + E(c, t)) x (F(t) - 1), where E is the base_driver's
effect, B the base mid and F a price factor. F follows a diffusion along tenor time
tau = max(months ahead, 0) / 12 driven by a Brownian motion W (one per stochastic driver, shared by every
curve; drivers correlate through `correlation_matrix`). Parameters are annual and relative to price:
- normal      {mean=0, std}:        F = 1 + mean x tau + std x W(tau)
- lognormal   {mu=0, sigma}:        F = exp((mu - sigma^2 / 2) x tau + sigma x W(tau)), E[F] = e^(mu tau)
- uniform     {low, high}:          F = 1 + sqrt(tau) x U,  U = low + (high - low) x Phi(W(tau) / sqrt(tau))
- triangular  {low, mode, high}:    F = 1 + sqrt(tau) x T,  T = triangular quantile of Phi(W(tau) / sqrt(tau))
so at one year of tenor the relative move has exactly the named distribution, and none at the as-of.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from apps.scenarios.drivers.base import (
    Driver,
    Effect,
    EffectContext,
    FieldSpec,
    FloatArray,
    Kind,
    ValidationResult,
    error,
    has_errors,
    info,
    is_number,
    warning,
)
from apps.scenarios.drivers.registry import evaluate_node, validate_node

# distribution -> {parameter: (required, default)}
PARAMETERS: dict[str, dict[str, tuple[bool, float | None]]] = {
    "normal": {"mean": (False, 0.0), "std": (True, None)},
    "lognormal": {"mu": (False, 0.0), "sigma": (True, None)},
    "uniform": {"low": (True, None), "high": (True, None)},
    "triangular": {"low": (True, None), "mode": (True, None), "high": (True, None)},
}

FIELDS = (
    FieldSpec(
        "distribution_type",
        Kind.STRING,
        "distribution of the relative price move at one year of tenor",
        required=True,
        choices=tuple(PARAMETERS),
    ),
    FieldSpec(
        "parameters",
        Kind.OBJECT,
        "normal {mean, std}, lognormal {mu, sigma}, uniform {low, high}, "
        "triangular {low, mode, high}; annual, relative to price",
        required=True,
    ),
    FieldSpec(
        "base_driver",
        Kind.OBJECT,
        "deterministic driver node whose move the noise surrounds ({} for none)",
        required=True,
    ),
    FieldSpec("correlation_matrix", Kind.OBJECT, "{label: {other label: rho}} between stochastic drivers"),
)

DOCS = __doc__ or ""


def _parameters(payload: Mapping[str, Any]) -> dict[str, float]:
    spec = PARAMETERS[payload["distribution_type"]]
    given = payload["parameters"]
    return {
        name: float(given[name]) if given.get(name) is not None else float(default or 0.0)
        for name, (_, default) in spec.items()
    }


def normal_cdf(z: FloatArray) -> FloatArray:
    """Phi(z) through a Chebyshev fit of erfc (Numerical Recipes `erfcc`, fractional error < 1.2e-7)."""
    x = np.abs(z) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.5 * x)
    poly = -1.26551223 + t * (
        1.00002368
        + t
        * (
            0.37409196
            + t
            * (
                0.09678418
                + t
                * (
                    -0.18628806
                    + t
                    * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))
                )
            )
        )
    )
    erfc = t * np.exp(-x * x + poly)
    return np.where(z >= 0, 1.0 - 0.5 * erfc, 0.5 * erfc)


def _triangular_quantile(u: FloatArray, low: float, mode: float, high: float) -> FloatArray:
    width = high - low
    if width == 0:
        return np.full_like(u, low)
    split = (mode - low) / width
    left = low + np.sqrt(u * width * (mode - low))
    right = high - np.sqrt((1.0 - u) * width * (high - mode))
    return np.where(u < split, left, right)


def stochastic_shock(payload: Mapping[str, Any], brownian: FloatArray, tau: FloatArray) -> FloatArray:
    """Price factors F for Brownian paths `brownian` (n_paths, n_tau) at tenor times `tau` (n_tau,)."""
    params = _parameters(payload)
    distribution = payload["distribution_type"]
    if distribution == "normal":
        return 1.0 + params["mean"] * tau + params["std"] * brownian
    if distribution == "lognormal":
        sigma = params["sigma"]
        return np.exp((params["mu"] - 0.5 * sigma * sigma) * tau + sigma * brownian)
    root = np.sqrt(tau)
    with np.errstate(divide="ignore", invalid="ignore"):
        standard = np.where(root > 0, brownian / np.where(root > 0, root, 1.0), 0.0)
    u = normal_cdf(standard)
    if distribution == "uniform":
        move = params["low"] + (params["high"] - params["low"]) * u
    else:
        move = _triangular_quantile(u, params["low"], params["mode"], params["high"])
    return 1.0 + root * move


def stochastic_effect(payload: Mapping[str, Any], ctx: EffectContext) -> Effect:
    """The deterministic part: the base driver's move (the engine adds the noise)."""
    base_driver = payload["base_driver"]
    if not base_driver:
        return Effect(ctx.zeros())
    return Effect(ctx.full(evaluate_node(base_driver, ctx).total))


def _check_parameters(payload: Mapping[str, Any], path: str) -> list[ValidationResult]:
    distribution = payload["distribution_type"]
    spec = PARAMETERS[distribution]
    given = payload["parameters"]
    results: list[ValidationResult] = []
    for name, (required, _) in spec.items():
        value = given.get(name)
        if value is None:
            if required:
                results.append(
                    error(
                        "REQUIRED_FIELD_MISSING",
                        f"{distribution} needs parameter {name}",
                        f"{path}.parameters.{name}",
                    )
                )
        elif not is_number(value) or not math.isfinite(value):
            results.append(
                error("INVALID_TYPE", f"{name} must be a finite number", f"{path}.parameters.{name}")
            )
    for name in given:
        if name not in spec:
            results.append(
                warning(
                    "UNKNOWN_FIELD",
                    f"{distribution} does not use parameter {name}",
                    f"{path}.parameters.{name}",
                    f"parameters: {', '.join(spec)}",
                )
            )
    if has_errors(results):
        return results
    params = _parameters(payload)
    spread = {
        "normal": lambda: params["std"],
        "lognormal": lambda: params["sigma"],
        "uniform": lambda: params["high"] - params["low"],
        "triangular": lambda: params["high"] - params["low"],
    }[distribution]()
    if distribution in ("normal", "lognormal") and spread < 0:
        name = "std" if distribution == "normal" else "sigma"
        results.append(error("OUT_OF_RANGE", f"{name} must be >= 0", f"{path}.parameters.{name}"))
    elif distribution == "uniform" and spread < 0:
        results.append(error("OUT_OF_RANGE", "uniform needs low <= high", f"{path}.parameters.high"))
    elif distribution == "triangular" and not params["low"] <= params["mode"] <= params["high"]:
        results.append(
            error("OUT_OF_RANGE", "triangular needs low <= mode <= high", f"{path}.parameters.mode")
        )
    elif spread == 0:
        results.append(
            info(
                "ZERO_VOLATILITY",
                "no spread: every path equals the deterministic value",
                f"{path}.parameters",
            )
        )
    elif distribution == "normal" and params["std"] > 1.0:
        results.append(
            warning(
                "HIGH_VOLATILITY",
                f"std {params['std']:g} is more than 100% a year",
                f"{path}.parameters.std",
                "parameters are fractions: 0.3 means 30%",
            )
        )
    return results


def _check_correlation_entries(matrix: Mapping[str, Any], path: str) -> list[ValidationResult]:
    results: list[ValidationResult] = []
    for first, row in matrix.items():
        if not isinstance(row, Mapping):
            results.append(
                error(
                    "INVALID_TYPE",
                    "each row must be an object {label: rho}",
                    f"{path}.correlation_matrix.{first}",
                )
            )
            continue
        for second, rho in row.items():
            entry = f"{path}.correlation_matrix.{first}.{second}"
            if not is_number(rho) or not math.isfinite(rho):
                results.append(error("INVALID_TYPE", "a correlation must be a finite number", entry))
            elif not -1.0 <= rho <= 1.0:
                results.append(error("OUT_OF_RANGE", f"a correlation must lie in [-1, 1]; got {rho}", entry))
            elif first == second and rho != 1.0:
                results.append(error("INVALID_CORRELATION", "a driver's correlation with itself is 1", entry))
    return results


def stochastic_check(payload: Mapping[str, Any], path: str) -> list[ValidationResult]:
    results = _check_parameters(payload, path)
    if payload["base_driver"]:
        results.extend(validate_node(payload["base_driver"], f"{path}.base_driver", allow_stochastic=False))
    if payload["correlation_matrix"]:
        results.extend(_check_correlation_entries(payload["correlation_matrix"], path))
    return results


def correlation_matrix(labels: Sequence[str], matrices: Sequence[Mapping[str, Any] | None]) -> FloatArray:
    """The correlation between stochastic drivers `labels`, from their (validated) `correlation_matrix`
    payloads: symmetric, 1 on the diagonal, 0 where nobody says otherwise; unknown labels are ignored."""
    position = {label: index for index, label in enumerate(labels)}
    result = np.eye(len(labels))
    for matrix in matrices:
        for first, row in (matrix or {}).items():
            for second, rho in row.items():
                if first in position and second in position:
                    result[position[first], position[second]] = rho
                    result[position[second], position[first]] = rho
    return result


def correlation_issues(
    labels: Sequence[str], matrices: Sequence[Mapping[str, Any] | None], paths: Sequence[str]
) -> list[ValidationResult]:
    """Scenario-level correlation issues: unknown labels, contradicting entries, a matrix that is not PSD."""
    results: list[ValidationResult] = []
    seen: dict[frozenset[str], float] = {}
    for matrix, path in zip(matrices, paths, strict=True):
        for first, row in (matrix or {}).items():
            for second, rho in row.items():
                entry = f"{path}.correlation_matrix.{first}.{second}"
                unknown = [label for label in (first, second) if label not in labels]
                if unknown:
                    results.append(
                        warning(
                            "UNKNOWN_CORRELATION_KEY",
                            f"{unknown[0]!r} is not a stochastic assumption; entry ignored",
                            entry,
                            f"stochastic assumptions: {', '.join(labels)}",
                        )
                    )
                    continue
                pair = frozenset((first, second))
                if pair in seen and seen[pair] != rho:
                    results.append(
                        error(
                            "CORRELATION_CONFLICT",
                            f"correlation of {first} and {second} is given as both {seen[pair]} and {rho}",
                            entry,
                        )
                    )
                seen.setdefault(pair, rho)
    if has_errors(results) or len(labels) < 2:
        return results
    eigenvalues = np.linalg.eigvalsh(correlation_matrix(labels, matrices))
    if eigenvalues.min() < -1e-10:
        results.append(
            error(
                "CORRELATION_NOT_PSD",
                "the correlations between stochastic drivers are not positive semi-definite",
                f"{paths[0]}.correlation_matrix",
                "lower the pairwise correlations so the matrix is a valid correlation matrix",
            )
        )
    return results


DRIVER = Driver(
    name="stochastic",
    fields=FIELDS,
    docs=DOCS,
    effect=stochastic_effect,
    check=stochastic_check,
    shock=stochastic_shock,
)
