"""Monte Carlo for stochastic drivers: seeded, chunked Brownian paths over tenor time, and their quantiles.

Memory: one factor array per stochastic driver, (distinct tenor times, n_paths), shared by every curve.
A cell's value on a path is affine in the factors, value = offset + s x sum_i d_i x (F_i - 1), with s > 0 the
largest |coefficient| and d the coefficient direction. Quantiles commute with increasing affine maps, so
cells that share a tenor time and a direction share the quantiles of sum_i d_i x (F_i - 1): with one driver
there are at most two directions (+1, -1) per tenor whatever the number of curves, and curves x paths x
tenors is never materialised. Distinct directions are mixed in blocks of at most `block_elements` values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from apps.scenarios.drivers.base import FloatArray, IntArray
from apps.scenarios.engine.types import EngineOptions, RunCancelled

Shock = Callable[[FloatArray, FloatArray], FloatArray]


def check_cancel(options: EngineOptions) -> None:
    if options.should_cancel is not None and options.should_cancel():
        raise RunCancelled("scenario run cancelled")


def _mixing_matrix(correlation: FloatArray) -> FloatArray:
    """A matrix L with L L^T = correlation (Cholesky; eigen-decomposition when only semi-definite)."""
    try:
        return np.asarray(np.linalg.cholesky(correlation), dtype=np.float64)
    except np.linalg.LinAlgError:
        eigenvalues, eigenvectors = np.linalg.eigh(correlation)
        return np.asarray(eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None)), dtype=np.float64)


def simulate_factors(
    shocks: Sequence[Shock], tau: FloatArray, correlation: FloatArray, options: EngineOptions
) -> FloatArray:
    """Price factors F, shape (n_drivers, n_tau, n_paths), for increasing tenor times `tau` (years, >= 0).

    Paths are the last, contiguous axis so that per-tenor quantiles partition contiguous memory.

    Driver i draws its standard normals from child i of SeedSequence(seed), chunk after chunk, so results do
    not depend on `chunk_paths`; drivers correlate through `correlation` applied to the Brownian increments.
    """
    n_drivers, n_paths = len(shocks), options.n_paths
    generators = [
        np.random.Generator(np.random.PCG64(child))
        for child in np.random.SeedSequence(options.seed).spawn(n_drivers)
    ]
    step = np.sqrt(np.diff(tau, prepend=0.0))
    mixing = _mixing_matrix(correlation)
    factors = np.empty((n_drivers, tau.size, n_paths))
    n_chunks = -(-n_paths // options.chunk_paths)
    for chunk in range(n_chunks):
        check_cancel(options)
        start = chunk * options.chunk_paths
        stop = min(start + options.chunk_paths, n_paths)
        normals = np.stack([generator.standard_normal((stop - start, tau.size)) for generator in generators])
        if n_drivers > 1:
            normals = np.einsum("ij,jpt->ipt", mixing, normals)
        brownian = np.cumsum(normals * step, axis=-1)
        for driver, shock in enumerate(shocks):
            factors[driver, :, start:stop] = shock(brownian[driver], tau).T
        if options.on_progress is not None:
            options.on_progress((chunk + 1) / n_chunks)
    return factors


def quantiles_last_axis(values: FloatArray, probabilities: Sequence[float]) -> FloatArray:
    """np.quantile(values, probabilities, axis=-1) with the default linear method, from one partial sort.

    np.quantile takes several times longer on large stacks; this partitions once at the needed order
    statistics and interpolates between them exactly as the linear method does.
    """
    n = values.shape[-1]
    positions = np.asarray(probabilities, dtype=np.float64) * (n - 1)
    below = np.floor(positions).astype(np.int64)
    above = np.minimum(below + 1, n - 1)
    ordered = np.partition(values, sorted({*below.tolist(), *above.tolist()}), axis=-1)
    low, high = ordered[..., below], ordered[..., above]
    return np.moveaxis(low + (positions - below) * (high - low), -1, 0)


def _row_groups(keys: FloatArray) -> tuple[IntArray, IntArray]:
    """Groups of equal rows: the first row of each group, and each row's group number (0, 1, ...).

    Column by column with 1-D uniques (np.unique(axis=0) sorts void records and is much slower).
    """
    code = np.zeros(keys.shape[0], dtype=np.int64)
    for column in keys.T:
        values, column_code = np.unique(column, return_inverse=True)
        _, code = np.unique(code * len(values) + column_code, return_inverse=True)
    _, first = np.unique(code, return_index=True)
    return first, code


def level_quantiles(
    factors: FloatArray,
    tenor_of: np.ndarray,
    offset: FloatArray,
    coefs: Sequence[FloatArray],
    probabilities: Sequence[float],
    options: EngineOptions,
) -> FloatArray:
    """Path quantiles of offset + sum_i coefs[i] x (F_i - 1), shape (len(probabilities), curves, tenors).

    `factors` is (drivers, tenor times, paths); `tenor_of[t]` is the tenor time of tenor t. Cells whose offset
    or coefficients are NaN (no base quote) get NaN.
    """
    coefficients = np.stack(coefs, axis=-1)  # (curves, tenors, drivers)
    scale = np.abs(coefficients).max(axis=-1)
    result = np.full((len(probabilities), *offset.shape), np.nan)
    cells = np.isfinite(scale) & np.isfinite(offset)
    curve_index, tenor_index = np.nonzero(cells)
    cell_scale = scale[cells]
    direction = coefficients[cells] / np.where(cell_scale > 0, cell_scale, 1.0)[:, None]
    # cells that share a tenor time and a coefficient direction share their quantiles up to the positive scale
    cell_time = np.asarray(tenor_of)[tenor_index]
    leaders, group_of = _row_groups(np.column_stack([cell_time, direction]))
    group_time, group_direction = cell_time[leaders], direction[leaders]
    n_groups = leaders.size
    moves = factors - 1.0
    block = max(1, options.block_elements // options.n_paths)
    group_quantiles = np.empty((len(probabilities), n_groups))
    for start in range(0, n_groups, block):
        check_cancel(options)
        part = slice(start, min(start + block, n_groups))
        paths = np.zeros((part.stop - part.start, options.n_paths))
        for driver, move in enumerate(moves):
            paths += group_direction[part, driver, None] * move[group_time[part]]
        group_quantiles[:, part] = quantiles_last_axis(paths, probabilities)
    result[:, curve_index, tenor_index] = offset[cells] + cell_scale * group_quantiles[:, group_of]
    return result
