"""Scenario and run services on real ingested curves (no worker: runs execute in the test's transaction)."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from apps.audit.models import AuditEntry
from apps.audit.verification import audit_chain_verify
from apps.scenarios.models import Scenario, ScenarioRun, ScenarioRunEvent
from apps.scenarios.selectors import run_output_table, scenario_latest_succeeded_run
from apps.scenarios.services.dispatch import scenario_runs_dispatch
from apps.scenarios.services.execution import (
    RunWatch,
    scenario_run_execute,
    scenario_run_reproduce,
    scenario_run_start,
)
from apps.scenarios.services.inputs import CurveSelection, RunOptions
from apps.scenarios.services.lifecycle import run_requeue_lost
from apps.scenarios.services.runs import scenario_run_cancel, scenario_run_submit, scenario_runs_submit_bulk
from apps.scenarios.services.scenarios import scenario_create, scenario_update
from aurum.errors import ConflictError, InvalidInputError, UnprocessableError
from aurum.events.models import OutboxEvent
from tests.support.scenarios import POLICY


def _scenario(tenant, curves, name="Carbon 2027", assumptions=(POLICY,), **kwargs) -> Scenario:
    return scenario_create(
        tenant=tenant,
        name=name,
        actor=None,
        assumptions=list(assumptions),
        selection=CurveSelection(curve_keys=curves.curve_keys, base_asof=curves.asof),
        **kwargs,
    )


def test_create_validates_drivers_with_the_spec_result_shape(in_acme):
    with pytest.raises(InvalidInputError) as invalid:
        scenario_create(
            tenant=in_acme,
            name="Bad",
            actor=None,
            assumptions=[
                {"driver_type": "polcy", "payload": {}},
                {"driver_type": "composite", "payload": {"components": [{"payload": {}}]}},
            ],
        )

    issues = invalid.value.issues
    assert {
        (i.severity, i.code, i.field)
        for i in issues
        if i.code in ("UNSUPPORTED_DRIVER_TYPE", "MISSING_COMPONENT_DRIVER_TYPE")
    } == {
        ("error", "UNSUPPORTED_DRIVER_TYPE", "assumptions[0].driver_type"),
        ("error", "MISSING_COMPONENT_DRIVER_TYPE", "assumptions[1].payload.components[0].driver_type"),
    }
    assert next(i for i in issues if i.code == "UNSUPPORTED_DRIVER_TYPE").suggestion == (
        "did you mean 'policy'?"
    )
    assert not Scenario.objects.filter(name="Bad").exists()


def test_names_are_unique_ignoring_case_and_the_key_is_a_slug(in_acme, eugp_curves):
    scenario = _scenario(in_acme, eugp_curves, name="Carbon  Tax / 2027!")

    with pytest.raises(ConflictError):
        _scenario(in_acme, eugp_curves, name="carbon  tax / 2027!")
    assert scenario.unique_key == "acme:carbon-tax-2027"
    assert (scenario.status, scenario.version) == ("created", 1)


def test_update_bumps_the_version_and_revalidates(in_acme, eugp_curves):
    scenario = _scenario(in_acme, eugp_curves)

    scenario_update(scenario=scenario, tenant=in_acme, description="higher", tags=["carbon"])
    with pytest.raises(InvalidInputError):
        scenario_update(scenario=scenario, tenant=in_acme, assumptions=[{"driver_type": "policy"}])

    scenario.refresh_from_db()
    assert (scenario.version, scenario.description, scenario.tags) == (2, "higher", ["carbon"])
    assert [a.driver_type for a in scenario.assumptions.all()] == ["policy"]


def test_same_inputs_or_key_return_the_existing_run(in_acme, eugp_curves):
    scenario = _scenario(in_acme, eugp_curves)
    other = _scenario(in_acme, eugp_curves, name="Other")

    first = scenario_run_submit(tenant=in_acme, scenario=scenario, options=RunOptions(seed=1), actor=None)
    again = scenario_run_submit(tenant=in_acme, scenario=scenario, options=RunOptions(seed=1), actor=None)
    reseeded = scenario_run_submit(tenant=in_acme, scenario=scenario, options=RunOptions(seed=2), actor=None)
    keyed = scenario_run_submit(
        tenant=in_acme, scenario=scenario, options=RunOptions(seed=3, idempotency_key="k-1"), actor=None
    )
    same_key = scenario_run_submit(
        tenant=in_acme, scenario=scenario, options=RunOptions(seed=3, idempotency_key="k-1"), actor=None
    )

    assert first.created and not again.created and again.run.pk == first.run.pk
    assert reseeded.created and reseeded.run.input_hash != first.run.input_hash
    assert keyed.created and not same_key.created and same_key.run.pk == keyed.run.pk
    with pytest.raises(ConflictError):
        scenario_run_submit(
            tenant=in_acme, scenario=other, options=RunOptions(seed=3, idempotency_key="k-1"), actor=None
        )
    with pytest.raises(UnprocessableError):  # the key with other parameters
        scenario_run_submit(
            tenant=in_acme, scenario=scenario, options=RunOptions(seed=4, idempotency_key="k-1"), actor=None
        )
    assert ScenarioRun.objects.filter(scenario=scenario).count() == 3
    assert first.run.status == "queued"
    assert list(first.run.events.values_list("event_type", flat=True)) == ["queued"]


def test_a_run_moves_the_real_curves_and_writes_its_outputs(in_acme, eugp_curves):
    scenario = _scenario(in_acme, eugp_curves)
    submitted = scenario_run_submit(tenant=in_acme, scenario=scenario, options=RunOptions(), actor=None)

    run = scenario_run_execute(run_id=str(submitted.run.pk), tenant=in_acme)

    assert run is not None and run.status == "succeeded", run and run.error_message
    assert run.base_asof == eugp_curves.asof
    assert run.started_at is not None and run.completed_at is not None and run.duration_seconds is not None
    assert run.started_at <= run.completed_at and run.duration_seconds >= 0
    assert run.progress_percent == 100.0
    mid = run_output_table(tenant=in_acme, run=run, metric="mid")
    expected_rows = eugp_curves.rows.num_rows
    assert mid.num_rows == expected_rows
    assert run.output_rows == 3 * expected_rows  # mid, uplift, policy_uplift
    # policy: len("carbon_tax") x 0.1 = 1.0 from contract year 2027 on; band = value -/+ 2 %
    for row in mid.to_pylist():
        base = eugp_curves.mids(row["curve_key"])[row["tenor_label"]]
        uplift = 1.0 if row["contract_month"].year >= 2027 else 0.0
        assert row["value"] == pytest.approx(base + uplift, abs=1e-9)
        assert row["band_lower"] == pytest.approx((base + uplift) * 0.98, rel=1e-9)
        assert row["asof_date"] == eugp_curves.asof
        assert row["version_hash"] == run.input_hash
    assert scenario_latest_succeeded_run(scenario=scenario) == run
    assert list(run.events.values_list("event_type", flat=True)) == ["queued", "started", "succeeded"]


def test_cancel_is_idempotent_and_a_cancelled_run_never_starts(in_acme, eugp_curves):
    scenario = _scenario(in_acme, eugp_curves)
    run = scenario_run_submit(tenant=in_acme, scenario=scenario, options=RunOptions(), actor=None).run

    cancelled = scenario_run_cancel(run=run, tenant=in_acme)
    again = scenario_run_cancel(run=run, tenant=in_acme)
    started = scenario_run_execute(run_id=str(run.pk), tenant=in_acme)

    assert cancelled.status == again.status == "cancelled"
    assert cancelled.cancelled_at == again.cancelled_at is not None
    assert started is None
    # a cancelled run does not hold its inputs: the same inputs make a new run
    assert scenario_run_submit(tenant=in_acme, scenario=scenario, options=RunOptions(), actor=None).created


def test_bulk_reports_created_runs_and_duplicates(in_acme, eugp_curves):
    scenario = _scenario(in_acme, eugp_curves)
    existing = scenario_run_submit(tenant=in_acme, scenario=scenario, options=RunOptions(seed=0), actor=None)

    result = scenario_runs_submit_bulk(
        tenant=in_acme,
        scenario=scenario,
        runs=[RunOptions(seed=s) for s in (0, 1, 2, 1)],
        actor=None,
    )

    assert result.meta == {"total_runs": 4, "successful_runs": 2, "duplicate_runs": 2, "failed_runs": 0}
    assert [d["index"] for d in result.data] == [1, 2]
    assert [(d["index"], d["existing_run_id"]) for d in result.duplicates] == [
        (0, str(existing.run.pk)),
        (3, result.data[0]["run_id"]),
    ]
    with pytest.raises(InvalidInputError):
        scenario_runs_submit_bulk(
            tenant=in_acme, scenario=scenario, runs=[RunOptions(seed=s) for s in range(101)], actor=None
        )


def _bulk_statements(tenant, curves, name, n):
    scenario = _scenario(tenant, curves, name=name)
    with CaptureQueriesContext(connection) as statements:
        result = scenario_runs_submit_bulk(
            tenant=tenant, scenario=scenario, runs=[RunOptions(seed=s) for s in range(n)], actor=None
        )
    assert result.meta["successful_runs"] == n
    return scenario, result, len(statements)


def test_a_bulk_submit_records_its_runs_events_and_ledger_entries_together(in_acme, eugp_curves):
    _, _, two = _bulk_statements(in_acme, eugp_curves, "Bulk of two", 2)
    scenario, result, twenty = _bulk_statements(in_acme, eugp_curves, "Bulk of twenty", 20)

    assert twenty == two  # the statements do not grow with the number of runs
    run_ids = [d["run_id"] for d in result.data]
    runs = {str(r.pk): r for r in ScenarioRun.objects.filter(scenario=scenario)}
    assert sorted(runs) == sorted(run_ids) and {r.status for r in runs.values()} == {"queued"}
    queued = ScenarioRunEvent.objects.filter(run__scenario=scenario).values_list("run_id", "event_type")
    assert sorted((str(run), kind) for run, kind in queued) == sorted((rid, "queued") for rid in run_ids)
    published = OutboxEvent.objects.filter(
        event_type="scenario.run.queued", payload__scenario_id=str(scenario.pk)
    )
    assert sorted(e.payload["run_id"] for e in published) == sorted(run_ids)
    submits = AuditEntry.objects.filter(action="run.submit", resource_id__in=run_ids).order_by("sequence")
    assert [e.resource_id for e in submits] == run_ids  # in the order of the items
    assert [json.loads(e.changes)["seed"] for e in submits] == list(range(20))
    assert audit_chain_verify().ok
    # A run's history is its events and the ledger (decision 0050): no django-auditlog row history.
    assert not LogEntry.objects.filter(object_pk__in=run_ids).exists()


def test_dispatcher_honours_the_cap_then_priority_then_age(in_acme, eugp_curves):
    in_acme.plan.concurrent_scenario_runs = 2
    in_acme.plan.save(update_fields=["concurrent_scenario_runs"])
    scenario = _scenario(in_acme, eugp_curves)
    priorities = ["low", "normal", "critical", "high", "normal"]
    runs = [
        scenario_run_submit(
            tenant=in_acme, scenario=scenario, options=RunOptions(seed=i, priority=p), actor=None
        ).run
        for i, p in enumerate(priorities)
    ]

    first = scenario_runs_dispatch(tenant=in_acme)
    nothing = scenario_runs_dispatch(tenant=in_acme)
    ScenarioRun.objects.filter(pk=first[0]).update(status="succeeded")
    next_one = scenario_runs_dispatch(tenant=in_acme)

    ids = [str(r.pk) for r in runs]
    assert first == [ids[2], ids[3]]  # critical, then high
    assert nothing == []  # two dispatched, cap 2: the rest wait
    assert next_one == [ids[1]]  # a slot freed: the older normal run
    assert ScenarioRun.objects.filter(status="queued", dispatched_at__isnull=True).count() == 2


def test_the_dispatcher_takes_no_lock_when_no_run_is_waiting(in_acme, eugp_curves):
    """Given one run dispatched and none waiting, a dispatch (as at every run end) is one statement with no
    advisory lock and changes nothing; once a run is queued, the next dispatch locks and hands it out."""
    scenario = _scenario(in_acme, eugp_curves)
    first = scenario_run_submit(tenant=in_acme, scenario=scenario, options=RunOptions(seed=1), actor=None).run
    assert scenario_runs_dispatch(tenant=in_acme) == [str(first.pk)]
    dispatched_at = ScenarioRun.objects.get(pk=first.pk).dispatched_at

    with CaptureQueriesContext(connection) as empty:
        nothing = scenario_runs_dispatch(tenant=in_acme)
    second = scenario_run_submit(
        tenant=in_acme, scenario=scenario, options=RunOptions(seed=2), actor=None
    ).run
    with CaptureQueriesContext(connection) as waiting:
        handed = scenario_runs_dispatch(tenant=in_acme)

    assert nothing == [] and len(empty) == 1
    assert "advisory" not in empty[0]["sql"]
    assert ScenarioRun.objects.get(pk=first.pk).dispatched_at == dispatched_at
    assert handed == [str(second.pk)]
    assert sum("pg_advisory_xact_lock" in q["sql"] for q in waiting.captured_queries) == 1


def test_an_archived_scenario_cannot_run(in_acme, eugp_curves):
    scenario = _scenario(in_acme, eugp_curves)
    scenario_update(scenario=scenario, tenant=in_acme, status="archived")

    with pytest.raises(ConflictError):
        scenario_run_submit(tenant=in_acme, scenario=scenario, options=RunOptions(), actor=None)


def test_a_scenario_without_curves_cannot_run(in_acme):
    scenario = scenario_create(tenant=in_acme, name="No curves", actor=None, assumptions=[POLICY])

    with pytest.raises(InvalidInputError) as invalid:
        scenario_run_submit(tenant=in_acme, scenario=scenario, options=RunOptions(), actor=None)
    assert invalid.value.issues[0].code == "NO_CURVES"


def test_no_rows_for_the_selection_fails_the_run_with_a_clear_message(in_acme, eugp_curves):
    scenario = scenario_create(
        tenant=in_acme,
        name="Nothing",
        actor=None,
        assumptions=[POLICY],
        selection=CurveSelection(curve_keys=eugp_curves.curve_keys, base_asof=date(1999, 1, 4)),
    )
    run = scenario_run_submit(tenant=in_acme, scenario=scenario, options=RunOptions(), actor=None).run

    done = scenario_run_execute(run_id=str(run.pk), tenant=in_acme)

    assert done is not None and done.status == "failed"
    assert "No curve rows match" in done.error_message


def test_a_rerun_on_the_recorded_snapshot_reproduces_the_outputs_after_a_correction(in_acme):
    from tests.support.scenarios import EUGP_0911, EUGP_0912, fixed_price_curves
    from tests.support.slices import ingest_slice

    day = date(2025, 6, 3)
    ingest_slice(EUGP_0912, day)
    curves = fixed_price_curves(day)
    stochastic = {
        "driver_type": "stochastic",
        "payload": {
            "distribution_type": "lognormal",
            "parameters": {"sigma": 0.3},
            "base_driver": POLICY,
        },
    }
    scenario = _scenario(in_acme, curves, name="Reproducible", assumptions=[stochastic])
    options = RunOptions(seed=11, parameters={"n_paths": 2000})
    queued = scenario_run_submit(tenant=in_acme, scenario=scenario, options=options, actor=None).run
    first = scenario_run_execute(run_id=str(queued.pk), tenant=in_acme)
    assert first is not None and first.status == "succeeded", first and first.error_message

    ingest_slice(EUGP_0911, day)  # a corrected file for the same day replaces the slice
    corrected = fixed_price_curves(day)
    rerun = scenario_run_reproduce(run=first, tenant=in_acme)
    fresh = scenario_run_submit(tenant=in_acme, scenario=scenario, options=options, actor=None)
    fresh_run = scenario_run_execute(run_id=str(fresh.run.pk), tenant=in_acme)

    assert corrected.rows.column("mid").to_pylist() != curves.rows.column("mid").to_pylist()
    assert rerun.identical and rerun.output_hash == first.output_hash and len(first.output_hash) == 64
    assert rerun.rows == first.output_rows
    assert fresh.created  # a new curve snapshot is a new input
    assert fresh_run is not None and fresh_run.status == "succeeded"
    assert fresh_run.output_hash != first.output_hash


def test_a_worker_whose_run_was_handed_on_or_cancelled_stops_at_its_next_check(in_acme, eugp_curves):
    scenario = _scenario(in_acme, eugp_curves)
    submitted = scenario_run_submit(tenant=in_acme, scenario=scenario, options=RunOptions(), actor=None)
    run = scenario_run_start(str(submitted.run.pk))
    assert run is not None
    watch = RunWatch(run, "acme")
    watch.last_beat = watch.last_progress = time.monotonic() - 1  # a check is due

    alive = watch.should_cancel()
    beating = run_requeue_lost(run, stale_seconds=60)  # it beat just now: not lost
    ScenarioRun.objects.filter(pk=run.pk).update(heartbeat_at=F("heartbeat_at") - timedelta(seconds=61))
    assert run_requeue_lost(run, stale_seconds=60)  # the sweep gives up on this worker: a new attempt
    watch.last_progress = time.monotonic() - 1
    watch.on_progress(0.5)  # this worker's progress tick matches nothing now (and counts as its beat)
    stops = watch.should_cancel()

    assert (alive, beating, stops) == (False, False, True)
    run.refresh_from_db()
    assert (run.status, run.retry_count, run.progress_percent) == ("queued", 1, 0.0)  # the tick wrote nothing
    again = scenario_run_start(str(run.pk))
    assert again is not None
    fresh = RunWatch(again, "acme")
    fresh.last_beat = time.monotonic() - 1
    scenario_run_cancel(run=again, tenant=in_acme)
    assert fresh.should_cancel() is True


def test_a_started_run_beats_in_database_time_and_ticks_progress_only_after_half_a_second(
    in_acme, eugp_curves
):
    scenario = _scenario(in_acme, eugp_curves)
    submitted = scenario_run_submit(tenant=in_acme, scenario=scenario, options=RunOptions(), actor=None)
    run = scenario_run_start(str(submitted.run.pk))
    assert run is not None
    stored = ScenarioRun.objects.get(pk=run.pk)
    beat = run.heartbeat_at  # the database's time, read when asked for
    watch = RunWatch(run, "acme")

    watch.on_progress(0.4)  # at once: no tick (a short run announces only its start and end)
    quiet = ScenarioRun.objects.get(pk=run.pk).progress_percent
    watch.last_progress = time.monotonic() - 0.5
    watch.on_progress(0.4)  # half a second later: the tick

    assert beat == stored.heartbeat_at is not None
    assert quiet == 0.0
    assert ScenarioRun.objects.get(pk=run.pk).progress_percent == 38.0  # 95 % of the computation's 40 %
