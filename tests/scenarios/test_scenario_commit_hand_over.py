"""A worker that finds another committer at work hands its staged run over and goes on (decision 0067).

Two real database sessions (two threads, no test transaction): the committer's locks are real Postgres
advisory locks, so the hand-over is the one the workers do. Given a committer in the middle of a round
(its runs selected, its locks held), when another worker stages its run and tries to commit, then that try
returns at once with nothing committed, and the committer, after releasing its locks, finds the run staged
and commits it in a second round: no run is left staged."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from django.db import connection
from django_tenants.utils import schema_context

from apps.scenarios.models import ScenarioRun
from apps.scenarios.services import commit as commit_service
from apps.scenarios.services.commit import scenario_outputs_commit, scenario_run_stage
from apps.scenarios.services.execution import scenario_run_compute, scenario_run_start
from apps.scenarios.services.inputs import CurveSelection, RunOptions
from apps.scenarios.services.runs import scenario_run_submit
from apps.scenarios.services.scenarios import scenario_create
from tests.support.scenarios import POLICY, output_table_locked, staged_run, wait_for


def _scenario(tenant: Any, curves: Any, created: list[Any]) -> Any:
    scenario = scenario_create(
        tenant=tenant,
        name=f"hand-over {uuid.uuid4()}",
        actor=None,
        assumptions=[POLICY],
        selection=CurveSelection(curve_keys=curves.curve_keys, base_asof=curves.asof),
    )
    created.append(scenario)
    return scenario


def _an_advisory_lock_is_waited_for() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return bool(cursor.fetchone()[0])


class _Committer(threading.Thread):
    """scenario_outputs_commit on its own connection, as another worker's thread would run it."""

    def __init__(self, tenant: Any, watched: list[Any] | None = None) -> None:
        super().__init__(daemon=True)
        self.tenant = tenant
        self.watched = watched or []
        self.committed: list[str] | None = None
        self.error: BaseException | None = None
        self.rounds_ended: list[int] = []  # after_round's calls: the runs committed so far, each time

    def run(self) -> None:
        try:
            with schema_context("acme"):
                self.committed = scenario_outputs_commit(
                    tenant=self.tenant,
                    hand_over=True,
                    after_round=lambda: self.rounds_ended.append(
                        ScenarioRun.objects.filter(status="succeeded", pk__in=self.watched).count()
                    ),
                )
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
        finally:
            connection.close()


def test_a_run_staged_while_another_worker_commits_is_handed_over_and_committed_in_its_next_round(
    acme_live, eugp_curves, monkeypatch
):
    tenant, created = acme_live
    scenario = _scenario(tenant, eugp_curves, created)
    first, _ = staged_run(tenant, scenario, seed=1)
    # the other worker's run, computed; it stages below (its submit and start would wait for the audit
    # ledger, which the committer's round holds until it ends)
    submitted = scenario_run_submit(tenant=tenant, scenario=scenario, options=RunOptions(seed=2), actor=None)
    second = scenario_run_start(str(submitted.run.pk))
    assert second is not None
    base, rows = scenario_run_compute(run=second, tenant=tenant)
    in_round = threading.Event()
    handed_over = threading.Event()
    real_round = commit_service._staged_commit

    def round_that_waits(schema: str) -> list[str]:
        done = real_round(schema)
        if not in_round.is_set():  # the first round: hold the locks until the other worker has tried
            in_round.set()
            assert handed_over.wait(60), "the other worker never tried"
        return done

    monkeypatch.setattr(commit_service, "_staged_commit", round_that_waits)
    committer = _Committer(tenant, watched=[first.pk, second.pk])
    committer.start()
    assert in_round.wait(60), "the committer never started its round"

    assert scenario_run_stage(run=second, tenant=tenant, base=base, table=rows)  # while the locks are held
    returned = scenario_outputs_commit(tenant=tenant, hand_over=True)
    still = ScenarioRun.objects.get(pk=second.pk)
    handed_over.set()
    committer.join(60)

    assert returned == []  # handed over: nothing committed by this worker, and it did not wait
    assert still.status == "running" and still.output_staged_uri == second.output_staged_uri
    assert committer.error is None and committer.committed == [str(first.pk), str(second.pk)]
    # queued runs get the freed slots after each round (the worker dispatches there), not after the last
    assert committer.rounds_ended == [1, 2]
    runs = {run.pk: run for run in ScenarioRun.objects.filter(pk__in=[first.pk, second.pk])}
    assert {run.status for run in runs.values()} == {"succeeded"}
    assert {run.output_staged_uri for run in runs.values()} == {""}
    # two rounds, two snapshots: the second run was staged after the first round had selected its runs
    assert runs[first.pk].output_snapshot_id != runs[second.pk].output_snapshot_id


def test_a_worker_waits_for_the_table_lock_of_a_holder_that_is_no_committer(acme_live, eugp_curves):
    """Given the output table's lock held by something that is not a committer (maintenance, say), a worker
    does not hand its run over to it: it becomes the committer, waits for the table's lock and commits."""
    tenant, created = acme_live
    scenario = _scenario(tenant, eugp_curves, created)
    run, _ = staged_run(tenant, scenario, seed=3)

    with output_table_locked("acme"):
        committer = _Committer(tenant)
        committer.start()
        wait_for(_an_advisory_lock_is_waited_for, 60, "the committer to wait for the table's lock")
        assert committer.is_alive()  # waiting for the table's lock, not handed over to its holder
    committer.join(60)

    assert committer.error is None and committer.committed == [str(run.pk)]
    assert ScenarioRun.objects.get(pk=run.pk).status == "succeeded"
