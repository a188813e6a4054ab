"""Runs under a real Celery worker (threads, concurrency 4): the plan's concurrency cap, priorities, and
cancelling a running computation. These tests commit; each deletes its scenario (runs cascade) at the end."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from apps.scenarios.models import Scenario, ScenarioRun
from apps.scenarios.services.inputs import CurveSelection, RunOptions
from apps.scenarios.services.runs import scenario_run_cancel, scenario_run_submit, scenario_runs_submit_bulk
from apps.scenarios.services.scenarios import scenario_create
from tests.support.scenarios import BASE_DAY, POLICY, fixed_price_curves, wait_for

pytestmark = pytest.mark.live

STOCHASTIC = {
    "driver_type": "stochastic",
    "name": "gas",
    "payload": {"distribution_type": "lognormal", "parameters": {"sigma": 0.3}, "base_driver": POLICY},
}
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


def _scenario(
    tenant: Any, created: list[Scenario], assumptions: list[dict[str, Any]], n_curves: int
) -> Scenario:
    curves = fixed_price_curves(BASE_DAY, n=n_curves)
    scenario = scenario_create(
        tenant=tenant,
        name=f"live {uuid.uuid4()}",
        actor=None,
        assumptions=assumptions,
        selection=CurveSelection(curve_keys=curves.curve_keys, base_asof=BASE_DAY),
    )
    created.append(scenario)
    return scenario


def _max_overlap(intervals: list[tuple[datetime, datetime]]) -> int:
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    return peak


def test_the_plan_caps_concurrent_runs_the_rest_wait_and_all_finish(acme_live, celery_worker):
    tenant, created = acme_live
    tenant.plan.concurrent_scenario_runs = 2
    tenant.plan.save(update_fields=["concurrent_scenario_runs"])
    scenario = _scenario(tenant, created, [STOCHASTIC], n_curves=8)

    result = scenario_runs_submit_bulk(
        tenant=tenant,
        scenario=scenario,
        runs=[RunOptions(seed=i, parameters={"n_paths": 100_000}) for i in range(4)],
        actor=None,
    )
    runs = ScenarioRun.objects.filter(scenario=scenario)
    wait_for(lambda: not runs.exclude(status__in=ScenarioRun.FINISHED).exists(), 120, "all runs to finish")

    assert result.meta["successful_runs"] == 4
    assert set(runs.values_list("status", flat=True)) == {"succeeded"}
    intervals = [(r.started_at, r.completed_at) for r in runs if r.started_at and r.completed_at]
    assert len(intervals) == 4
    assert _max_overlap(intervals) == 2  # in parallel, and never more than the plan allows


def test_higher_priority_starts_first_when_slots_are_scarce(acme_live, celery_worker):
    tenant, created = acme_live
    tenant.plan.concurrent_scenario_runs = 1
    tenant.plan.save(update_fields=["concurrent_scenario_runs"])
    scenario = _scenario(tenant, created, [STOCHASTIC], n_curves=8)

    blocker = scenario_run_submit(
        tenant=tenant,
        scenario=scenario,
        options=RunOptions(seed=100, parameters={"n_paths": 100_000}),
        actor=None,
    ).run
    wait_for(lambda: ScenarioRun.objects.get(pk=blocker.pk).status != "queued", 30, "the first run to start")
    order = ["low", "normal", "critical", "high"]
    runs = {
        p: scenario_run_submit(
            tenant=tenant, scenario=scenario, options=RunOptions(seed=i, priority=p), actor=None
        ).run
        for i, p in enumerate(order)
    }
    all_runs = ScenarioRun.objects.filter(scenario=scenario)
    wait_for(
        lambda: not all_runs.exclude(status__in=ScenarioRun.FINISHED).exists(), 120, "all runs to finish"
    )

    starts = {p: ScenarioRun.objects.get(pk=run.pk).started_at for p, run in runs.items()}
    started = sorted(runs, key=lambda p: starts[p] or datetime.max.replace(tzinfo=UTC))
    assert started == ["critical", "high", "normal", "low"]


def test_cancel_stops_a_running_computation_between_chunks(acme_live, celery_worker, settings):
    settings.AURUM_SCENARIO_RUN_BUDGET = 10**10  # 2 drivers x 60 curves' tenors x 100k paths: a big run
    tenant, created = acme_live
    tenant.plan.concurrent_scenario_runs = 4
    tenant.plan.save(update_fields=["concurrent_scenario_runs"])
    # Two correlated stochastic drivers over 60 curves, 100k paths: tens of seconds to finish.
    scenario = _scenario(tenant, created, [STOCHASTIC, SECOND_STOCHASTIC], n_curves=60)
    run = scenario_run_submit(
        tenant=tenant,
        scenario=scenario,
        options=RunOptions(seed=1, parameters={"n_paths": 100_000}),
        actor=None,
    ).run
    wait_for(lambda: ScenarioRun.objects.get(pk=run.pk).status == "running", 30, "the run to start")
    time.sleep(0.5)

    log = Path(settings.VAR_DIR) / "test-worker.log"
    task_end = re.compile(r"scenarios\.run_execute\[[^\]]+\] succeeded in ([0-9.]+)s: 'cancelled'")
    ended_before = len(task_end.findall(log.read_text(errors="replace")))  # earlier tests' cancelled tasks
    cancelled_at = time.monotonic()
    cancelled = scenario_run_cancel(run=run, tenant=tenant)
    wait_for(
        lambda: len(task_end.findall(log.read_text(errors="replace"))) > ended_before, 10, "this task to stop"
    )
    stopped_after = time.monotonic() - cancelled_at

    run.refresh_from_db()
    assert cancelled.status == run.status == "cancelled"
    assert run.output_rows == 0 and run.output_hash == ""
    assert list(run.events.values_list("event_type", flat=True)) == ["queued", "started", "cancelled"]
    assert stopped_after < 10
