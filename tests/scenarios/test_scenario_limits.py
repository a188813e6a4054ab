"""A run cannot starve the workers: its size (drivers x curve-tenors x paths, from the curve catalog) is
refused at submit over the budget (422 on v1, v2 and bulk), and its memory (estimated from the engine's
arrays) is refused by the worker over its ``max_memory_mb`` before anything is computed."""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pytest
from django.conf import settings as django_settings
from django_tenants.utils import schema_context

from apps.scenarios.engine import CurveSet, EngineOptions, run_scenario, scenario_output_table
from apps.scenarios.engine.memory import run_memory_bytes
from apps.scenarios.engine.rows import METRICS
from apps.scenarios.models import ScenarioRun
from apps.scenarios.services.execution import scenario_run_execute
from tenants.models import Tenant
from tests.support.scenarios import POLICY, STOCHASTIC, CurveSlice, catalog_record, fixed_price_curves

SECOND_STOCHASTIC = {
    "driver_type": "stochastic",
    "name": "co2",
    "payload": {
        "distribution_type": "normal",
        "parameters": {"std": 0.2},
        "base_driver": {
            "driver_type": "fleet_change",
            "payload": {
                "fleet_id": "F",
                "change_type": "retire",
                "effective_date": "2026-06-01",
                "capacity_mw": 500,
            },
        },
        "correlation_matrix": {"gas": {"co2": 0.5}},
    },
}


def _curve_tenors(curves: CurveSlice) -> int:
    """The catalog's bound of the selection's cells: quoted tenors plus at most one quarter per 3 and one
    calendar per 12."""
    return sum(t + t // 3 + t // 12 for t in curves.quoted_tenors().values())


@pytest.fixture
def trader(api, world):
    def call(method: str, path: str, data: Any = None, **extra: Any) -> Any:
        return getattr(api, method)(path, data, format="json", **world.acme.auth("trader"), **extra)

    return call


@pytest.fixture
def catalogued(world, eugp_curves) -> CurveSlice:
    catalog_record(eugp_curves)
    return eugp_curves


def _scenario(trader: Any, curves: CurveSlice, name: str, assumptions: list[dict[str, Any]]) -> str:
    body = {"name": name, "assumptions": assumptions, "curve_keys": list(curves.curve_keys)}
    created = trader("post", "/api/v2/scenarios", {**body, "base_asof": curves.asof.isoformat()})
    assert created.status_code == 201, created.json()
    return str(created.json()["data"]["id"])


def test_the_budget_refuses_a_run_too_big_on_v1_v2_and_bulk_and_names_its_size(trader, catalogued, settings):
    cells = _curve_tenors(catalogued)
    settings.AURUM_SCENARIO_RUN_BUDGET = cells * 2000  # one stochastic driver: 2,000 paths fit, 2,001 do not
    scenario_id = _scenario(trader, catalogued, "Budget", [STOCHASTIC])
    deterministic_id = _scenario(trader, catalogued, "Budget policy", [POLICY])

    fits = trader("post", f"/api/v2/scenarios/{scenario_id}/runs", {"parameters": {"n_paths": 2000}})
    too_big = trader("post", f"/api/v2/scenarios/{scenario_id}/runs", {"parameters": {"n_paths": 2001}})
    too_big_v1 = trader("post", f"/api/v1/scenarios/{scenario_id}/run", {"parameters": {"n_paths": 5000}})
    bulk = trader(
        "post",
        f"/api/v1/scenarios/{scenario_id}/runs:bulk",
        {"runs": [{"seed": 1}, {"seed": 2, "parameters": {"n_paths": 3000}}, {"seed": 3}]},
    )
    # a run without a stochastic driver draws no paths: n_paths does not count
    deterministic = trader(
        "post", f"/api/v2/scenarios/{deterministic_id}/runs", {"parameters": {"n_paths": 9000}}
    )

    assert fits.status_code == 201
    assert too_big.status_code == too_big_v1.status_code == bulk.status_code == 422
    assert too_big["Content-Type"] == "application/problem+json"
    body = too_big.json()
    assert body["type"] == "https://aurum.dev/problems/run-budget-exceeded"
    assert (body["budget"], body["run_size"], body["formula"]) == (
        cells * 2000,
        cells * 2001,
        "drivers x curve_tenors x paths",
    )
    assert (body["drivers"], body["curves"], body["curve_tenors"], body["paths"]) == (1, 8, cells, 2001)
    assert body["computed"] == f"1 x {cells} x 2001 = {cells * 2001}"
    assert f"exceeds the run budget of {cells * 2000:,}" in body["detail"]
    assert too_big_v1.json()["run_size"] == cells * 5000
    assert [(r["index"], r["run_size"]) for r in bulk.json()["runs"]] == [(1, cells * 3000)]
    assert deterministic.status_code == 201 and deterministic.json()["data"]["parameters"]["n_paths"] == 9000
    with schema_context("acme"):  # the refused calls created nothing, not even the bulk's fitting items
        assert ScenarioRun.objects.filter(scenario_id=scenario_id).count() == 1


def test_the_curve_tenors_bound_the_cells_a_run_computes(trader, catalogued):
    scenario_id = _scenario(trader, catalogued, "Cells", [POLICY])
    run_id = trader("post", f"/api/v2/scenarios/{scenario_id}/runs", {}).json()["data"]["id"]

    with schema_context("acme"):
        run = scenario_run_execute(run_id=run_id, tenant=Tenant.objects.get(schema_name="acme"))

    assert run is not None and run.status == "succeeded"
    cells = run.output_rows // len(METRICS)  # one row per metric and quoted cell
    assert cells == catalogued.rows.num_rows
    assert cells <= _curve_tenors(catalogued) < 1.2 * cells  # an upper bound, and a close one


def test_the_default_budget_fits_the_benchmarks_runs(world, eugp_curves):
    """bench/scenario_runs.py: 20 curves x every tenor, 4 drivers (one stochastic), 2,000 paths."""
    curves = fixed_price_curves(eugp_curves.asof, n=20)
    size = 4 * _curve_tenors(curves) * 2000

    assert size == 4 * 20 * (121 + 40 + 10) * 2000 == 27_360_000  # 121 monthly quotes per curve
    assert size <= django_settings.AURUM_SCENARIO_RUN_BUDGET == 200_000_000
    assert size * 10 > django_settings.AURUM_SCENARIO_RUN_BUDGET  # sized for them, not for anything


def _curve_set(curves: CurveSlice) -> CurveSet:
    """The slice's monthly quotes on one grid (the engine's input shape)."""
    keys = list(curves.curve_keys)
    monthly = curves.rows.filter(pc.equal(curves.rows.column("tenor_type"), "MONTHLY"))
    months = sorted(set(monthly.column("contract_month").to_pylist()))
    mid = np.full((len(keys), len(months)), np.nan)
    for key, month, value in zip(
        monthly.column("curve_key").to_pylist(),
        monthly.column("contract_month").to_pylist(),
        monthly.column("mid").to_pylist(),
        strict=True,
    ):
        mid[keys.index(key), months.index(month)] = value
    return CurveSet(
        curve_keys=tuple(keys),
        tenor_labels=tuple(m.isoformat()[:7] for m in months),
        contract_months=np.array(months, dtype="datetime64[M]"),
        mid=mid,
    )


@pytest.mark.parametrize(
    ("assumptions", "n_paths"),
    [([STOCHASTIC], 20_000), ([STOCHASTIC, SECOND_STOCHASTIC], 5_000), ([POLICY, POLICY], 1000)],
    ids=["one stochastic", "two correlated", "deterministic"],
)
def test_the_memory_estimate_bounds_the_engines_measured_peak_within_2x(eugp_curves, assumptions, n_paths):
    curves = _curve_set(eugp_curves)
    tracemalloc.start()
    try:
        result = run_scenario(
            curves, assumptions, asof=eugp_curves.asof, options=EngineOptions(n_paths=n_paths)
        )
        table = scenario_output_table(
            result, asof_date=eugp_curves.asof, scenario_id="s" * 36, tenant_id="acme", run_id="r" * 36,
            version_hash="h" * 64, metrics=list(METRICS),
        )  # fmt: skip
        numpy_peak = tracemalloc.get_traced_memory()[1]  # numpy reports its buffers to tracemalloc
    finally:
        tracemalloc.stop()
    measured = numpy_peak + table.nbytes  # Arrow's buffers are its own pool's

    estimate = run_memory_bytes(
        n_curves=len(curves.curve_keys),
        n_tenors=len(curves.tenor_labels),
        n_paths=n_paths,
        assumptions=assumptions,
        n_metrics=len(METRICS),
    )

    assert measured <= estimate <= 2 * measured


def test_a_run_over_its_max_memory_mb_fails_before_computing_with_a_clear_code(trader, eugp_curves):
    scenario_id = _scenario(trader, eugp_curves, "Memory", [STOCHASTIC])
    options = {"max_memory_mb": 256, "parameters": {"n_paths": 100_000}}
    run_id = trader("post", f"/api/v2/scenarios/{scenario_id}/runs", options).json()["data"]["id"]

    with schema_context("acme"):
        run = scenario_run_execute(run_id=run_id, tenant=Tenant.objects.get(schema_name="acme"))
    shown = trader("get", f"/api/v2/scenario-runs/{run_id}").json()["data"]

    assert run is not None
    assert (run.status, run.error_code, run.output_rows) == ("failed", "MEMORY_LIMIT_EXCEEDED", 0)
    assert "and max_memory_mb is 256" in run.error_message
    assert "8 curves x " in run.error_message and "100000 paths" in run.error_message
    assert (shown["status"], shown["error_code"]) == ("failed", "MEMORY_LIMIT_EXCEEDED")
    assert run.progress_percent == 0.0  # nothing was simulated
    with schema_context("acme"):
        assert list(run.events.values_list("event_type", flat=True)) == ["queued", "started", "failed"]
