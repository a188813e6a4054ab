"""Runs survive what kills workers and brokers, under real processes (these tests commit; each deletes its
scenario at the end):

- a worker killed (SIGKILL) mid-run stops beating; the sweep re-queues the run (counting the attempt), its
  slot frees at once and it finishes on another worker, while the plan's cap holds throughout;
- with the broker down, submitting a run still answers 201 with the run: the failed send is left to the sweep,
  which sends it again once the broker is back.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import F
from django.db.models.functions import Now
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.scenarios.models import Scenario, ScenarioRun
from apps.scenarios.services.dispatch import runs_busy
from apps.scenarios.services.inputs import CurveSelection, RunOptions
from apps.scenarios.services.runs import scenario_run_submit
from apps.scenarios.services.scenarios import scenario_create
from apps.scenarios.services.sweep import scenario_runs_sweep
from aurum.queues import SCENARIOS
from tests.support.scenarios import (
    BASE_DAY,
    POLICY,
    STOCHASTIC,
    broker_unreachable,
    fixed_price_curves,
    scenario_worker,
    wait_for,
)

pytestmark = pytest.mark.live


def _scenario(tenant: Any, created: list[Scenario], assumptions: list[dict[str, Any]]) -> Scenario:
    curves = fixed_price_curves(BASE_DAY)
    scenario = scenario_create(
        tenant=tenant,
        name=f"recovery {uuid.uuid4()}",
        actor=None,
        assumptions=assumptions,
        selection=CurveSelection(curve_keys=curves.curve_keys, base_asof=BASE_DAY),
    )
    created.append(scenario)
    return scenario


def _events(run: ScenarioRun) -> list[str]:
    return list(run.events.values_list("event_type", flat=True))


@pytest.fixture(scope="module", autouse=True)
def doomed_worker(django_db_setup: None) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The worker the first test kills, on a queue of its own. Started with the module (autouse) so that it
    boots while the other test runs: a worker takes seconds to import everything."""
    queue = f"doomed-{uuid.uuid4().hex[:8]}"
    with scenario_worker(queue) as process:
        yield queue, process


def test_with_the_broker_down_a_submitted_run_is_201_and_the_sweep_sends_it_later(
    acme_live, committed_world, celery_worker, api, settings
):
    tenant, created = acme_live
    scenario = _scenario(tenant, created, [POLICY])

    with broker_unreachable():
        answer = api.post(
            f"/api/v2/scenarios/{scenario.pk}/runs",
            {"seed": 5},
            format="json",
            **committed_world.acme.auth("trader"),
        )
    with tenant_context(tenant):  # the request left the connection in the public schema
        run = ScenarioRun.objects.get(scenario=scenario)
        unsent = (run.status, run.dispatched_at is not None)
        # nobody started it within the stale-dispatch window: the sweep sends it again
        ScenarioRun.objects.filter(pk=run.pk).update(
            dispatched_at=F("dispatched_at")
            - timedelta(seconds=settings.AURUM_SCENARIO_STALE_DISPATCH_SECONDS + 1)
        )
        swept = scenario_runs_sweep(tenant=tenant)
        wait_for(lambda: ScenarioRun.objects.get(pk=run.pk).status == "succeeded", 60, "the run to succeed")
        resent_at = ScenarioRun.objects.get(pk=run.pk).dispatched_at

    assert answer.status_code == 201, answer.content
    assert answer.json()["data"]["id"] == str(run.pk) and answer.json()["data"]["status"] == "queued"
    assert unsent == ("queued", True)  # dispatched (its slot taken), never sent
    assert swept["resent"] == 1
    assert resent_at is not None and resent_at > timezone.now() - timedelta(minutes=1)


def test_a_run_whose_worker_was_killed_is_requeued_by_the_sweep_and_finishes_on_another(
    acme_live, celery_worker, doomed_worker, settings
):
    queue, doomed = doomed_worker
    tenant, created = acme_live
    tenant.plan.concurrent_scenario_runs = 1
    tenant.plan.save(update_fields=["concurrent_scenario_runs"])
    settings.AURUM_SCENARIO_RUN_QUEUE = queue  # the first send goes to the worker about to die
    settings.AURUM_SCENARIO_HEARTBEAT_STALE_SECONDS = 1.0
    scenario = _scenario(tenant, created, [STOCHASTIC])
    long = RunOptions(seed=1, parameters={"n_paths": 100_000})  # seconds of Monte Carlo: killed midway
    killed_run = scenario_run_submit(tenant=tenant, scenario=scenario, options=long, actor=None).run
    waiting = scenario_run_submit(
        tenant=tenant, scenario=scenario, options=RunOptions(seed=2), actor=None
    ).run
    runs = ScenarioRun.objects.filter(scenario=scenario)

    wait_for(lambda: runs.get(pk=killed_run.pk).status == "running", 60, "the doomed worker to start the run")
    doomed.kill()  # SIGKILL: no cleanup, no acknowledgement, the run stays "running"
    doomed.wait(timeout=10)
    dead = runs.get(pk=killed_run.pk)
    busy_while_dead = runs_busy()
    waiting_while_dead = runs.get(pk=waiting.pk).dispatched_at
    wait_for(
        lambda: runs.filter(pk=killed_run.pk, heartbeat_at__lt=Now() - timedelta(seconds=1)).exists(),
        10,
        "the heartbeat to go stale",
    )
    settings.AURUM_SCENARIO_RUN_QUEUE = SCENARIOS  # where the suite's worker listens (it serves every queue)
    swept = scenario_runs_sweep(tenant=tenant)
    requeued = runs.get(pk=killed_run.pk)
    busy_after_sweep = runs_busy()
    waiting_after_sweep = runs.get(pk=waiting.pk).dispatched_at
    wait_for(lambda: not runs.exclude(status__in=ScenarioRun.FINISHED).exists(), 90, "both runs to finish")

    assert dead.status == "running" and dead.retry_count == 0 and dead.output_staged_uri == ""
    assert busy_while_dead == 1 and waiting_while_dead is None  # the dead run still holds the only slot
    assert (swept["requeued"], swept["dispatched"]) == (1, 1)
    assert requeued.status == "queued" and requeued.retry_count == 1 and requeued.dispatched_at is not None
    assert requeued.error_message == "worker lost: no heartbeat for more than 1 s"
    assert busy_after_sweep == 1 and waiting_after_sweep is None  # the slot freed; the older run took it
    finished = runs.get(pk=killed_run.pk)
    second = runs.get(pk=waiting.pk)
    assert (finished.status, finished.retry_count, finished.error_code) == ("succeeded", 1, "")
    assert _events(finished) == ["queued", "started", "worker_lost", "started", "succeeded"]
    assert finished.events.get(event_type="worker_lost").data["attempt"] == 1
    assert second.status == "succeeded"
    assert second.started_at is not None and finished.completed_at is not None
    assert second.started_at >= finished.completed_at  # cap 1: the waiting run never ran beside it
