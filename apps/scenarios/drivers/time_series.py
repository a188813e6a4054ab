"""`time_series`: an additive move shaped as a level plus trend, seasonality or a multi-year cycle.

Over the first `forecast_horizon` months of tenor (m = 0 .. horizon - 1 months after the as-of; y = m / 12):
    effect(c, t) = level
                 + slope x y + B(c, t) x ((1 + growth_pct / 100)^y - 1)     when trend_params are given
                 + monthly[calendar month]  or  amplitude x cos(2 pi (calendar month - peak_month) / 12)
                                                                             for series_type seasonal
                 + amplitude x sin(2 pi (m + phase_months) / period_months)  for series_type cyclical
and 0 beyond the horizon. `irregular` has no expected shape: its level and explicit months only.
`base_values` holds `level` and explicit moves by contract month ("YYYY-MM": value), which replace the formula
in their month whatever the horizon.
"""

from __future__ import annotations

import math
import re
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
    error,
    info,
    is_number,
    warning,
)

SERIES_TYPES = ("trend", "seasonal", "cyclical", "irregular")
HORIZON_RANGE = (1, 8760)
_MONTH_KEY = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
TREND_KEYS = ("slope", "growth_pct")
SEASONAL_KEYS = ("amplitude", "peak_month", "monthly")
CYCLICAL_KEYS = ("amplitude", "period_months", "phase_months")

FIELDS = (
    FieldSpec("series_type", Kind.STRING, "shape of the series", required=True, choices=SERIES_TYPES),
    FieldSpec(
        "base_values", Kind.OBJECT, '{"level": move, "YYYY-MM": move, ...} in price units', required=True
    ),
    FieldSpec("trend_params", Kind.OBJECT, "{slope: price units per year, growth_pct: % of base per year}"),
    FieldSpec(
        "seasonal_params",
        Kind.OBJECT,
        "seasonal {amplitude, peak_month} or {monthly: {1..12: move}}; "
        "cyclical {amplitude, period_months, phase_months}",
    ),
    FieldSpec("forecast_horizon", Kind.INTEGER, "months of tenor the series covers", default=24),
)

DOCS = __doc__ or ""


def _month_number(key: str) -> int:
    year, month = key.split("-")
    return (int(year) - 1970) * 12 + int(month) - 1


def _number(params: Mapping[str, Any] | None, key: str, default: float = 0.0) -> float:
    value = (params or {}).get(key)
    return default if value is None else float(value)


def time_series_effect(payload: Mapping[str, Any], ctx: EffectContext) -> Effect:
    base_values: Mapping[str, Any] = payload["base_values"]
    months_ahead = ctx.months_ahead
    years = np.maximum(months_ahead, 0) / 12.0
    value = ctx.full(_number(base_values, "level"))
    trend = payload["trend_params"]
    if trend:
        growth = _number(trend, "growth_pct") / 100.0
        value += _number(trend, "slope") * years[None, :] + ctx.base * (
            (1.0 + growth) ** years[None, :] - 1.0
        )
    seasonal = payload["seasonal_params"] or {}
    if payload["series_type"] == "seasonal":
        if seasonal.get("monthly"):
            table = np.array([_number(seasonal["monthly"], str(month)) for month in range(1, 13)])
            value += table[ctx.calendar_month - 1][None, :]
        else:
            phase = 2.0 * math.pi * (ctx.calendar_month - _number(seasonal, "peak_month", 1.0)) / 12.0
            value += _number(seasonal, "amplitude") * np.cos(phase)[None, :]
    elif payload["series_type"] == "cyclical":
        angle = (
            2.0
            * math.pi
            * (months_ahead + _number(seasonal, "phase_months"))
            / _number(seasonal, "period_months")
        )
        value += _number(seasonal, "amplitude") * np.sin(angle)[None, :]
    in_horizon = (months_ahead >= 0) & (months_ahead < payload["forecast_horizon"])
    value = np.where(in_horizon[None, :], value, 0.0)
    for key, move in base_values.items():
        if _MONTH_KEY.match(key):
            value = np.where((ctx.month_index == _month_number(key))[None, :], float(move), value)
    return Effect(value)


def _check_numbers(params: Mapping[str, Any], allowed: tuple[str, ...], path: str) -> list[ValidationResult]:
    results: list[ValidationResult] = []
    for key, value in params.items():
        if key not in allowed:
            results.append(
                warning(
                    "UNKNOWN_FIELD",
                    f"{key} is not used here and is ignored",
                    f"{path}.{key}",
                    f"keys: {', '.join(allowed)}",
                )
            )
        elif key != "monthly" and (not is_number(value) or not math.isfinite(value)):
            results.append(error("INVALID_TYPE", f"{key} must be a finite number", f"{path}.{key}"))
    return results


def _check_base_values(base_values: Mapping[str, Any], path: str) -> list[ValidationResult]:
    results: list[ValidationResult] = []
    for key, value in base_values.items():
        if key != "level" and not _MONTH_KEY.match(str(key)):
            results.append(
                warning(
                    "UNKNOWN_FIELD",
                    f"{key!r} is neither level nor a YYYY-MM month; ignored",
                    f"{path}.base_values.{key}",
                )
            )
        elif not is_number(value) or not math.isfinite(value):
            results.append(
                error("INVALID_TYPE", f"{key} must be a finite number", f"{path}.base_values.{key}")
            )
    return results


def _check_seasonal(payload: Mapping[str, Any], path: str) -> list[ValidationResult]:
    series_type = payload["series_type"]
    params = payload["seasonal_params"]
    params_path = f"{path}.seasonal_params"
    if series_type in ("trend", "irregular"):
        if params:
            return [
                info("PARAMS_IGNORED", f"seasonal_params are not used by a {series_type} series", params_path)
            ]
        return []
    if not params:
        return [
            error(
                "REQUIRED_FIELD_MISSING",
                f"a {series_type} series needs seasonal_params",
                params_path,
                "seasonal: {amplitude, peak_month}; cyclical: {amplitude, period_months}",
            )
        ]
    if series_type == "cyclical":
        results = _check_numbers(params, CYCLICAL_KEYS, params_path)
        for key in ("amplitude", "period_months"):
            if params.get(key) is None:
                results.append(error("REQUIRED_FIELD_MISSING", f"{key} is required", f"{params_path}.{key}"))
        period = params.get("period_months")
        if is_number(period) and period <= 0:
            results.append(error("OUT_OF_RANGE", "period_months must be > 0", f"{params_path}.period_months"))
        return results
    results = _check_numbers(params, SEASONAL_KEYS, params_path)
    monthly = params.get("monthly")
    if monthly is not None:
        if not isinstance(monthly, Mapping):
            results.append(
                error("INVALID_TYPE", "monthly must be an object {1..12: move}", f"{params_path}.monthly")
            )
        else:
            for key, value in monthly.items():
                if str(key) not in {str(month) for month in range(1, 13)}:
                    results.append(
                        error(
                            "INVALID_KEY",
                            f"monthly keys are 1..12, got {key!r}",
                            f"{params_path}.monthly.{key}",
                        )
                    )
                elif not is_number(value):
                    results.append(
                        error(
                            "INVALID_TYPE", "a monthly move must be a number", f"{params_path}.monthly.{key}"
                        )
                    )
    elif params.get("amplitude") is None:
        results.append(
            error(
                "REQUIRED_FIELD_MISSING",
                "a seasonal series needs amplitude or monthly",
                f"{params_path}.amplitude",
            )
        )
    peak = params.get("peak_month")
    if peak is not None and (not isinstance(peak, int) or isinstance(peak, bool) or not 1 <= peak <= 12):
        results.append(
            error("OUT_OF_RANGE", "peak_month must be an integer 1-12", f"{params_path}.peak_month")
        )
    return results


def time_series_check(payload: Mapping[str, Any], path: str) -> list[ValidationResult]:
    results = _check_base_values(payload["base_values"], path)
    trend = payload["trend_params"]
    if trend:
        results.extend(_check_numbers(trend, TREND_KEYS, f"{path}.trend_params"))
        growth = trend.get("growth_pct")
        if is_number(growth) and growth <= -100:
            results.append(
                error("OUT_OF_RANGE", "growth_pct must be > -100", f"{path}.trend_params.growth_pct")
            )
    elif payload["series_type"] == "trend":
        results.append(
            info(
                "FLAT_TREND",
                "a trend series without trend_params is flat at its level",
                f"{path}.trend_params",
                "add trend_params {slope, growth_pct}",
            )
        )
    results.extend(_check_seasonal(payload, path))
    if payload["series_type"] == "irregular":
        results.append(
            info(
                "IRREGULAR_LEVEL_ONLY",
                "an irregular series has no expected shape: only its level and explicit months move prices",
                f"{path}.series_type",
                "wrap it in a stochastic driver for noise",
            )
        )
    horizon = payload["forecast_horizon"]
    if not HORIZON_RANGE[0] <= horizon <= HORIZON_RANGE[1]:
        results.append(
            warning(
                "EXTREME_FORECAST_HORIZON",
                f"forecast horizon {horizon} may be too extreme",
                f"{path}.forecast_horizon",
                "use a horizon between 1 and 8760 periods",
            )
        )
    return results


DRIVER = Driver(
    name="time_series", fields=FIELDS, docs=DOCS, effect=time_series_effect, check=time_series_check
)
