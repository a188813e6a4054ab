"""Scenario results as `scenario_output` rows (spec 2.4), as dicts or an Arrow table.

Metrics: `mid` (the scenario curve and its band), `uplift` (scenario - base, band likewise) and
`policy_uplift` (the part of the move made by policy drivers). Cells without a base quote produce no row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from apps.scenarios.drivers.base import FloatArray
from apps.scenarios.engine.types import ScenarioResult

METRICS = ("mid", "uplift", "policy_uplift")

SCENARIO_OUTPUT_SCHEMA = pa.schema(
    [
        ("asof_date", pa.date32()),
        ("scenario_id", pa.string()),
        ("tenant_id", pa.string()),
        ("run_id", pa.string()),
        ("curve_key", pa.string()),
        ("tenor_type", pa.string()),
        ("contract_month", pa.date32()),
        ("tenor_label", pa.string()),
        ("metric", pa.string()),
        ("value", pa.float64()),
        ("band_lower", pa.float64()),
        ("band_upper", pa.float64()),
        ("attribution", pa.list_(pa.struct([("component", pa.string()), ("delta", pa.float64())]))),
        ("version_hash", pa.string()),
        ("computed_ts", pa.timestamp("us", tz="UTC")),
        ("_ingest_ts", pa.timestamp("us", tz="UTC")),
    ]
)


def _metric_arrays(
    result: ScenarioResult, metric: str
) -> tuple[FloatArray, FloatArray, FloatArray, list[str]]:
    """value, band_lower, band_upper and the attribution labels shown for one metric."""
    labels = list(result.attribution)
    if metric == "mid":
        return result.value, result.band_lower, result.band_upper, labels
    if metric == "uplift":
        base = result.base
        return result.value - base, result.band_lower - base, result.band_upper - base, labels
    if metric == "policy_uplift":
        policy = [label for label in labels if result.attribution_types[label] == "policy"]
        move = (
            np.sum([result.attribution[label] for label in policy], axis=0)
            if policy
            else np.zeros_like(result.base)
        )
        return move, move, move, policy
    raise ValueError(f"unknown metric {metric!r}; one of {', '.join(METRICS)}")


def _row_hash(*parts: object) -> str:
    return hashlib.sha256(":".join(map(repr, parts)).encode("utf-8")).hexdigest()[:16]


def _repeat(value: object, kind: pa.DataType, n_rows: int) -> pa.Array:
    """One value n_rows times, built in Arrow (no Python list of n_rows references)."""
    return pa.repeat(pa.scalar(value, kind), n_rows)


def _metric_table(
    result: ScenarioResult,
    metric: str,
    *,
    asof_date: date,
    scenario_id: str,
    tenant_id: str,
    run_id: str,
    version_hash: str | None,
    computed_ts: datetime,
) -> pa.Table:
    """One metric's rows, built column by column (no per-row Python objects except the row hashes)."""
    value, lower, upper, labels = _metric_arrays(result, metric)
    curve_of, tenor_of = np.nonzero(~np.isnan(result.base))
    n_rows = curve_of.size
    curve_keys = pa.array(result.curve_keys, pa.string()).take(pa.array(curve_of))
    tenor_labels = pa.array(result.tenor_labels, pa.string()).take(pa.array(tenor_of))
    tenor_types = pa.array(result.tenor_types, pa.string()).take(pa.array(tenor_of))
    months = pa.array(result.contract_months.astype("datetime64[D]"), pa.date32()).take(pa.array(tenor_of))
    values = value[curve_of, tenor_of]

    contributions = np.zeros((n_rows, 0))
    if labels:
        contributions = np.stack([result.attribution[label][curve_of, tenor_of] for label in labels], axis=-1)
    nonzero = contributions != 0.0
    offsets = np.concatenate([[0], np.cumsum(nonzero.sum(axis=1))]).astype(np.int32)
    components = pa.array(labels, pa.string()).take(pa.array(np.nonzero(nonzero)[1]))
    deltas = pa.array(contributions[nonzero], pa.float64())
    attribution = pa.ListArray.from_arrays(
        pa.array(offsets), pa.StructArray.from_arrays([components, deltas], names=["component", "delta"])
    )

    if version_hash is None:
        row_hashes = [
            _row_hash(scenario_id, run_id, key, kind, label, metric, cell)
            for key, kind, label, cell in zip(
                curve_keys.to_pylist(),
                tenor_types.to_pylist(),
                tenor_labels.to_pylist(),
                values.tolist(),
                strict=True,
            )
        ]
        hashes = pa.array(row_hashes, pa.string())
    else:
        hashes = _repeat(version_hash, pa.string(), n_rows)
    timestamps = _repeat(computed_ts, pa.timestamp("us", tz="UTC"), n_rows)
    columns = [
        _repeat(asof_date, pa.date32(), n_rows),
        _repeat(scenario_id, pa.string(), n_rows),
        _repeat(tenant_id, pa.string(), n_rows),
        _repeat(run_id, pa.string(), n_rows),
        curve_keys,
        tenor_types,
        months,
        tenor_labels,
        _repeat(metric, pa.string(), n_rows),
        pa.array(values, pa.float64()),
        pa.array(lower[curve_of, tenor_of], pa.float64()),
        pa.array(upper[curve_of, tenor_of], pa.float64()),
        attribution.cast(SCENARIO_OUTPUT_SCHEMA.field("attribution").type),
        hashes,
        timestamps,
        timestamps,
    ]
    return pa.Table.from_arrays(columns, schema=SCENARIO_OUTPUT_SCHEMA)


def scenario_output_table(
    result: ScenarioResult,
    *,
    asof_date: date,
    scenario_id: str,
    tenant_id: str,
    run_id: str,
    version_hash: str | None = None,
    computed_ts: datetime | None = None,
    metrics: Sequence[str] = ("mid",),
) -> pa.Table:
    """`scenario_output` rows as an Arrow table with `SCENARIO_OUTPUT_SCHEMA`: per metric, curve by curve,
    one row per quoted tenor.

    `attribution` lists {component, delta} for every non-zero contribution. `version_hash` is the run's input
    hash when given, else a hash of the row's identity and value (the original's rule).
    """
    for metric in metrics:
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; one of {', '.join(METRICS)}")
    stamp = computed_ts or datetime.now(UTC)
    return pa.concat_tables(
        [
            _metric_table(
                result,
                metric,
                asof_date=asof_date,
                scenario_id=scenario_id,
                tenant_id=tenant_id,
                run_id=run_id,
                version_hash=version_hash,
                computed_ts=stamp,
            )
            for metric in metrics
        ]
    )


def scenario_output_rows(
    result: ScenarioResult,
    *,
    asof_date: date,
    scenario_id: str,
    tenant_id: str,
    run_id: str,
    version_hash: str | None = None,
    computed_ts: datetime | None = None,
    metrics: Sequence[str] = ("mid",),
) -> list[dict[str, Any]]:
    """The rows of `scenario_output_table` as dicts, in the same order with the same columns and values.

    Built directly: Arrow's to_pylist takes several times longer for nested attribution lists.
    """
    stamp = computed_ts or datetime.now(UTC)
    months = [month.astype("datetime64[D]").astype(date) for month in result.contract_months]
    quoted = (~np.isnan(result.base)).tolist()
    rows: list[dict[str, Any]] = []
    for metric in metrics:
        value, lower, upper, labels = _metric_arrays(result, metric)
        values, lowers, uppers = value.tolist(), lower.tolist(), upper.tolist()
        contributions = (
            np.stack([result.attribution[label] for label in labels], axis=-1).tolist()
            if labels
            else [[[] for _ in result.tenor_labels] for _ in result.curve_keys]
        )
        for curve, curve_key in enumerate(result.curve_keys):
            for tenor, tenor_label in enumerate(result.tenor_labels):
                if not quoted[curve][tenor]:
                    continue
                cell = values[curve][tenor]
                tenor_type = result.tenor_types[tenor]
                rows.append(
                    {
                        "asof_date": asof_date,
                        "scenario_id": scenario_id,
                        "tenant_id": tenant_id,
                        "run_id": run_id,
                        "curve_key": curve_key,
                        "tenor_type": tenor_type,
                        "contract_month": months[tenor],
                        "tenor_label": tenor_label,
                        "metric": metric,
                        "value": cell,
                        "band_lower": lowers[curve][tenor],
                        "band_upper": uppers[curve][tenor],
                        "attribution": [
                            {"component": label, "delta": delta}
                            for label, delta in zip(labels, contributions[curve][tenor], strict=False)
                            if delta != 0.0
                        ],
                        "version_hash": version_hash
                        or _row_hash(scenario_id, run_id, curve_key, tenor_type, tenor_label, metric, cell),
                        "computed_ts": stamp,
                        "_ingest_ts": stamp,
                    }
                )
    return rows
