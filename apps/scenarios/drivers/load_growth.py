"""`load_growth`: annual load growth that lifts prices, compounding per year of tenor inside its window."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from apps.scenarios.drivers.base import (
    Driver,
    Effect,
    EffectContext,
    FieldSpec,
    FloatArray,
    IntArray,
    Kind,
    ValidationResult,
    info,
    warning,
)

# The original worker's placeholder: one percent of annual growth adds 0.05 price units.
LOAD_WEIGHT = 0.05

FIELDS = (
    FieldSpec(
        "annual_growth_pct",
        Kind.NUMBER,
        "annual load growth in percent (2.5 means 2.5%)",
        required=True,
        exclusive_minimum=-100,
    ),
    FieldSpec("region", Kind.STRING, "region the growth applies to (informational)"),
    FieldSpec("start_year", Kind.INTEGER, "first year of growth", minimum=1900, maximum=2100),
    FieldSpec("end_year", Kind.INTEGER, "last year of growth", minimum=1900, maximum=2100),
    FieldSpec(
        "reference_curve_key",
        Kind.STRING,
        "curve whose mids scale the effect (mid / base value 50); unscaled when unknown",
    ),
)

DOCS = (
    "effect(t) = 0.05 x g x progress(year(t)) x (1 + g/100)^years_in_force(t) x scale(t). progress is the "
    "original's fraction of the start-end window elapsed, evaluated at each contract year; years_in_force "
    "counts "
    "tenor time from max(as-of, start of start_year) to the contract month, capped at the end of end_year; "
    "scale is the reference curve's mid / 50 at that tenor (1 without a reference curve)."
)


def progress_by_year(years: IntArray, start_year: int | None, end_year: int | None) -> FloatArray:
    """The original's fraction of the start-end window elapsed, with `years` as the current year."""
    current = years.astype(np.float64)
    effective_start = np.full_like(current, start_year) if start_year is not None else current
    if end_year is not None:
        effective_end = np.where(end_year >= effective_start, float(end_year), effective_start)
    else:
        effective_end = effective_start
    span = np.maximum(effective_end - effective_start + 1, 1)
    position = np.clip(current, effective_start, effective_end)
    progress = (position - effective_start + 1) / span
    if start_year is not None:
        progress = np.where(current < start_year, 0.0, progress)
    return progress


def years_in_force(
    month_index: IntArray, asof_month: int, start_year: int | None, end_year: int | None
) -> FloatArray:
    """Years of growth between the window's opening (not before the as-of) and each contract month."""
    opening = asof_month
    if start_year is not None:
        opening = max(opening, (start_year - 1970) * 12)
    closing = np.inf
    if end_year is not None:
        last_year = max(end_year, start_year) if start_year is not None else end_year
        closing = max((last_year + 1 - 1970) * 12, opening)
    return (np.clip(month_index, opening, closing) - opening) / 12.0


def load_growth_effect(payload: Mapping[str, Any], ctx: EffectContext) -> Effect:
    growth = float(payload["annual_growth_pct"])
    start_year, end_year = payload["start_year"], payload["end_year"]
    progress = progress_by_year(ctx.contract_year, start_year, end_year)
    compounding = (1.0 + growth / 100.0) ** years_in_force(
        ctx.month_index, ctx.asof_month_index, start_year, end_year
    )
    per_tenor = LOAD_WEIGHT * growth * progress * compounding
    reference = ctx.reference_curve(payload["reference_curve_key"])
    if reference is not None and ctx.base_value:
        per_tenor = per_tenor * np.where(np.isnan(reference), 1.0, reference / ctx.base_value)
    return Effect(ctx.full(per_tenor[None, :]))


def load_growth_check(payload: Mapping[str, Any], path: str) -> list[ValidationResult]:
    results: list[ValidationResult] = []
    growth = payload["annual_growth_pct"]
    start_year, end_year = payload["start_year"], payload["end_year"]
    if start_year is not None and end_year is not None and end_year < start_year:
        results.append(
            warning(
                "END_YEAR_BEFORE_START_YEAR",
                f"end_year {end_year} is before start_year {start_year}; growth runs in {start_year} only",
                f"{path}.end_year",
                "swap start_year and end_year",
            )
        )
    if abs(growth) > 25:
        results.append(
            warning(
                "UNUSUAL_GROWTH_RATE",
                f"{growth}% a year is far outside historical load growth",
                f"{path}.annual_growth_pct",
                "annual_growth_pct is a percent: 2.5 means 2.5%",
            )
        )
    elif growth == 0:
        results.append(
            info(
                "NO_EFFECT",
                "annual_growth_pct is 0: this assumption moves nothing",
                f"{path}.annual_growth_pct",
            )
        )
    elif abs(growth) < 0.1:
        results.append(
            info(
                "PERCENT_SCALE",
                f"annual_growth_pct {growth} means {growth}%, not {growth * 100:g}%",
                f"{path}.annual_growth_pct",
                f"use {growth * 100:g} for {growth * 100:g}%",
            )
        )
    return results


DRIVER = Driver(
    name="load_growth", fields=FIELDS, docs=DOCS, effect=load_growth_effect, check=load_growth_check
)
