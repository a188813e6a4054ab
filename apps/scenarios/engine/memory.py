"""How much memory a run's computation takes at its peak, known before computing it.

The worker refuses a run whose estimate exceeds the run's ``max_memory_mb`` instead of finding out by being
killed. The estimate follows the engine's arrays (tests/scenarios/test_scenario_limits.py checks it against
the engine's measured numpy peak plus the Arrow output, and keeps it within 2x of it, never below):

- Monte Carlo, per stochastic driver: the factors (tenor times x paths, float64), the moves derived from them
  and the partition copy of the median: 3 x S x T x P values; the mixing blocks, three at a time (the block
  and two temporaries), each at most ``block_elements`` values and at most groups x P, where cells sharing a
  tenor time and a coefficient direction form a group (one driver: at most 2 directions per tenor; several:
  up to one per cell, which overestimates drivers that share their base); the per-chunk normals;
- the deterministic grid: base, value, band, attribution per label and their temporaries, per curve x tenor;
- the output rows (per metric, one per quoted cell): their Arrow columns and the build's temporaries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from apps.scenarios.drivers import get_driver
from apps.scenarios.engine.types import EngineOptions

FLOAT = 8
GRID_ARRAYS = 12  # base, value, bands, path mean, masks and temporaries per cell, besides attribution
ROW_BYTES = 300  # Arrow bytes of an output row without its attribution (measured: 258-299 with it)
ROW_TEMPORARIES = 8 * FLOAT  # per row while building: taken indices, values, bands, repeated-value lists
ROW_LABEL_BYTES = 48  # per attribution entry: its Arrow bytes and the build's stacked values and masks


def _leaves(node: Mapping[str, Any]) -> int:
    """Attribution labels a node contributes: a composite's components (recursively), else one."""
    if node.get("driver_type") != "composite":
        return 1
    components = (node.get("payload") or {}).get("components") or []
    return sum(_leaves(component) for component in components if isinstance(component, Mapping)) or 1


def stochastic_count(assumptions: Sequence[Mapping[str, Any]]) -> int:
    """Top-level drivers that simulate paths (the engine draws paths for these only)."""
    count = 0
    for node in assumptions:
        driver = get_driver(str(node.get("driver_type")))
        if driver is not None and driver.shock is not None:
            count += 1
    return count


def attribution_count(assumptions: Sequence[Mapping[str, Any]]) -> int:
    """Attribution labels of a result: composite parts count one each; several stochastic drivers add
    ``interaction``."""
    return sum(_leaves(node) for node in assumptions) + (1 if stochastic_count(assumptions) > 1 else 0)


def run_memory_bytes(
    *,
    n_curves: int,
    n_tenors: int,
    n_paths: int,
    assumptions: Sequence[Mapping[str, Any]],
    n_metrics: int,
    options: EngineOptions | None = None,
) -> int:
    """Peak bytes of computing a run on ``n_curves`` x ``n_tenors`` base curves (an upper bound: every cell
    quoted, every tenor its own tenor time)."""
    options = options or EngineOptions()
    cells = n_curves * n_tenors
    labels = attribution_count(assumptions)
    stochastic = stochastic_count(assumptions)
    monte_carlo = 0
    if stochastic:
        factors = stochastic * n_tenors * n_paths
        groups = 2 * n_tenors if stochastic == 1 else cells
        block = min(options.block_elements, min(groups, cells) * n_paths)
        chunks = stochastic * n_tenors * min(options.chunk_paths, n_paths) * 4
        monte_carlo = FLOAT * (3 * factors + 3 * block + chunks)
    grid = FLOAT * cells * (labels + GRID_ARRAYS)
    rows = cells * n_metrics
    output = rows * (ROW_BYTES + ROW_TEMPORARIES + labels * ROW_LABEL_BYTES)
    return monte_carlo + grid + output
