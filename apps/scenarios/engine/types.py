"""The engine's inputs and outputs: base curves on a shared tenor grid, run options, the scenario result."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from apps.scenarios.drivers.base import FloatArray, IntArray, ValidationResult


class RunCancelled(Exception):  # noqa: N818 - the name says what happened, like Celery's Terminated
    """The run's cancel check returned True between two chunks of work; nothing was returned."""


class ScenarioValidationError(ValueError):
    """The assumptions have validation errors; `issues` lists every result (errors, warnings and info)."""

    def __init__(self, issues: Sequence[ValidationResult]) -> None:
        self.issues = list(issues)
        errors = [issue for issue in self.issues if issue.severity == "error"]
        super().__init__("; ".join(f"{issue.field_path}: {issue.message}" for issue in errors))


def month_index(values: npt.ArrayLike) -> IntArray:
    """Contract months as integer months since 1970-01, from datetime64, dates, 'YYYY-MM' strings or ints."""
    array = np.asarray(values)
    if np.issubdtype(array.dtype, np.integer):
        return array.astype(np.int64)
    if not np.issubdtype(array.dtype, np.datetime64):
        array = np.asarray(values, dtype="datetime64[M]")
    return array.astype("datetime64[M]").astype(np.int64)


@dataclass(frozen=True)
class CurveSet:
    """Base curves on one tenor grid: `mid[c, t]` is curve c's mid at tenor t (NaN where it has no quote).

    `contract_months` may be datetime64, dates, 'YYYY-MM' strings or ints (months since 1970-01);
    `tenor_types` defaults to MONTHLY everywhere.
    """

    curve_keys: tuple[str, ...]
    tenor_labels: tuple[str, ...]
    contract_months: npt.NDArray[np.datetime64]
    mid: FloatArray
    tenor_types: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        mid = np.asarray(self.mid, dtype=np.float64)
        months = month_index(self.contract_months)
        keys, labels = tuple(self.curve_keys), tuple(self.tenor_labels)
        types = tuple(self.tenor_types) or ("MONTHLY",) * len(labels)
        if mid.shape != (len(keys), len(labels)):
            raise ValueError(
                f"mid has shape {mid.shape}, expected {(len(keys), len(labels))} (curves, tenors)"
            )
        if months.shape != (len(labels),) or len(types) != len(labels):
            raise ValueError("contract_months and tenor_types need one entry per tenor")
        if len(set(keys)) != len(keys):
            raise ValueError("curve_keys must be unique")
        object.__setattr__(self, "mid", mid)
        object.__setattr__(self, "contract_months", months.astype("datetime64[M]"))
        object.__setattr__(self, "curve_keys", keys)
        object.__setattr__(self, "tenor_labels", labels)
        object.__setattr__(self, "tenor_types", types)

    @property
    def month_index(self) -> IntArray:
        return self.contract_months.astype(np.int64)


@dataclass(frozen=True)
class EngineOptions:
    """How to run: Monte Carlo size and seed, bands, reference curves, and the cancel and progress hooks.

    - `seed`: paths are a pure function of (seed, n_paths, assumptions); chunking does not change them.
    - `chunk_paths`: paths simulated per chunk; `should_cancel()` runs before each chunk and a True raises
      `RunCancelled`; `on_progress(fraction)` runs after each chunk (deterministic runs: once, at the end).
    - `band_quantiles`: (low, high) path quantiles reported as band_lower/band_upper; the value is the median.
    - `deterministic_band`: without stochastic drivers the band is value -/+ |value| x this (original: 2%).
    - `reference_curves`: extra curves a payload may name (mids per tenor or one number), looked up after
      the run's own curves.
    - `base_value`: the original's `AURUM_SCENARIO_BASE_VALUE`, the denominator of load_growth's scale.
    - `block_elements`: memory budget (array elements) per curve block when several stochastic drivers mix.
    """

    seed: int = 0
    n_paths: int = 1000
    chunk_paths: int = 1000
    band_quantiles: tuple[float, float] = (0.10, 0.90)
    deterministic_band: float = 0.02
    reference_curves: Mapping[str, npt.ArrayLike] = field(default_factory=dict)
    base_value: float = 50.0
    should_cancel: Callable[[], bool] | None = None
    on_progress: Callable[[float], None] | None = None
    block_elements: int = 4_000_000

    def __post_init__(self) -> None:
        low, high = self.band_quantiles
        if not 0.0 <= low <= 0.5 <= high <= 1.0:
            raise ValueError("band_quantiles must satisfy 0 <= low <= 0.5 <= high <= 1")
        if self.n_paths < 1 or self.chunk_paths < 1:
            raise ValueError("n_paths and chunk_paths must be positive")


@dataclass(frozen=True)
class ScenarioResult:
    """Scenario curves on the input grid, shape (n_curves, n_tenors) each.

    `value` is the deterministic scenario or, with stochastic drivers, the path median (P50); `band_lower` and
    `band_upper` the band quantiles (P10/P90 by default). `attribution[label]` is each driver's contribution;
    the contributions sum to `value - base` exactly (up to float rounding) in every cell.
    `attribution_types[label]` is the driver type behind each label ("interaction" for the mixing residual of
    several stochastic drivers). `path_mean` is the exact mean over paths (None without stochastic drivers).
    """

    curve_keys: tuple[str, ...]
    tenor_labels: tuple[str, ...]
    tenor_types: tuple[str, ...]
    contract_months: npt.NDArray[np.datetime64]
    base: FloatArray
    value: FloatArray
    band_lower: FloatArray
    band_upper: FloatArray
    attribution: dict[str, FloatArray]
    attribution_types: dict[str, str]
    path_mean: FloatArray | None = None
    n_paths: int = 0
    seed: int | None = None

    @property
    def stochastic(self) -> bool:
        return self.n_paths > 0

    def curve(self, key: str) -> dict[str, Any]:
        """One curve's arrays by name, for inspection and tests."""
        row = self.curve_keys.index(key)
        return {
            "base": self.base[row],
            "value": self.value[row],
            "band_lower": self.band_lower[row],
            "band_upper": self.band_upper[row],
            "attribution": {label: values[row] for label, values in self.attribution.items()},
        }
