"""`fuel_curve`: a fuel price move passed through to power prices, tenor by tenor."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from apps.scenarios.drivers.base import (
    Driver,
    Effect,
    EffectContext,
    FieldSpec,
    Kind,
    ValidationResult,
    warning,
)

FUEL_WEIGHTS = {"natural_gas": 0.004, "coal": -0.003, "co2": 0.006, "oil": 0.005}

FIELDS = (
    FieldSpec(
        "fuel", Kind.STRING, "fuel whose move passes through", required=True, choices=tuple(FUEL_WEIGHTS)
    ),
    FieldSpec(
        "reference_series",
        Kind.STRING,
        "fuel series (or curve key) the assumption is based on",
        required=True,
    ),
    FieldSpec(
        "basis_points_adjustment",
        Kind.NUMBER,
        "extra move in basis points of the reference price",
        default=0.0,
    ),
    FieldSpec(
        "reference_curve_key", Kind.STRING, "curve whose mids are the reference price (else reference_series)"
    ),
)

DOCS = (
    "effect(c, t) = (fuel_weight + bps / 10,000) x R(c, t) + h(reference_series), where R is the reference "
    "curve's mid at tenor t when reference_curve_key (else reference_series) names a known curve, otherwise "
    "the "
    "moved curve's own mid; h is the original's hash-derived term in [0, 0.049]. Weights: natural_gas 0.004, "
    "coal -0.003, co2 0.006, oil 0.005."
)


def reference_factor(name: str) -> float:
    """The original's small, stable, name-derived term: sha256 bucket / 1000, in [0, 0.049]."""
    if not name:
        return 0.0
    return (int(hashlib.sha256(name.encode("utf-8")).hexdigest()[:6], 16) % 50) / 1000.0


def fuel_curve_effect(payload: Mapping[str, Any], ctx: EffectContext) -> Effect:
    reference_name = payload["reference_series"]
    reference = ctx.reference_curve(payload["reference_curve_key"] or reference_name)
    price = (
        ctx.base
        if reference is None
        else np.where(np.isnan(reference)[None, :], ctx.base, reference[None, :])
    )
    rate = FUEL_WEIGHTS[payload["fuel"]] + float(payload["basis_points_adjustment"]) / 10_000.0
    return Effect(ctx.full(rate * price + reference_factor(reference_name)))


def fuel_curve_check(payload: Mapping[str, Any], path: str) -> list[ValidationResult]:
    bps = payload["basis_points_adjustment"]
    if abs(bps) > 10_000:
        return [
            warning(
                "LARGE_BASIS_ADJUSTMENT",
                f"{bps} bps moves prices by more than 100%",
                f"{path}.basis_points_adjustment",
                "basis points: 100 bps is 1%",
            )
        ]
    return []


DRIVER = Driver(name="fuel_curve", fields=FIELDS, docs=DOCS, effect=fuel_curve_effect, check=fuel_curve_check)
