"""The beat sweep isolates tenants: a tenant whose table lock is held is skipped (the others are swept), an
unreadable staged file is quarantined (its run failed, the others committed, the next sweep clean), and a run
waiting for its retry is not sent again before its time.

These run in the test's transaction, from the public schema as the beat does."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pyarrow.fs as pafs
import pytest
from django.db.models import F
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.scenarios.models import Scenario, ScenarioRun
from apps.scenarios.outputs import QUARANTINE_FOLDER
from apps.scenarios.services.execution import scenario_run_start
from apps.scenarios.services.inputs import CurveSelection, RunOptions
from apps.scenarios.services.lifecycle import run_retry_after_error
from apps.scenarios.services.runs import scenario_run_submit
from apps.scenarios.services.scenarios import scenario_create
from apps.scenarios.services.sweep import scenario_runs_sweep, scenario_runs_sweep_tenants
from aurum.lakehouse.locks import LockTimeoutError
from tenants.models import Tenant
from tests.support.scenarios import POLICY, output_table_locked, staged_run


def _tenant(schema: str) -> Tenant:
    return Tenant.objects.select_related("plan").get(schema_name=schema)


def _scenario(tenant: Tenant, curves: Any) -> Scenario:
    return scenario_create(
        tenant=tenant,
        name=f"sweep {uuid.uuid4()}",
        actor=None,
        assumptions=[POLICY],
        selection=CurveSelection(curve_keys=curves.curve_keys, base_asof=curves.asof),
    )


def _staged(schema: str, curves: Any, seed: int) -> ScenarioRun:
    tenant = _tenant(schema)
    with schema_context(schema):
        run, _ = staged_run(tenant, _scenario(tenant, curves), seed)
    return run


def _state(schema: str, run: ScenarioRun) -> tuple[str, str, str]:
    with schema_context(schema):
        run.refresh_from_db()
    return run.status, run.error_code, run.output_staged_uri


def _exists(uri: str) -> bool:
    filesystem, path = pafs.FileSystem.from_uri(uri)
    return filesystem.get_file_info(path).type == pafs.FileType.File


def test_a_held_table_lock_skips_that_tenant_and_the_others_are_swept(world, eugp_curves, settings):
    settings.AURUM_SCENARIO_SWEEP_LOCK_TIMEOUT_SECONDS = 0.2
    acme_run = _staged("acme", eugp_curves, seed=1)  # both left staged by a dead worker
    globex_run = _staged("globex", eugp_curves, seed=1)

    with output_table_locked("acme"):  # a commit of acme's that hangs
        held = scenario_runs_sweep_tenants()
    released = scenario_runs_sweep_tenants()

    assert held.skipped == ["acme"] and held.failed == []
    assert "acme" not in held.swept and held.swept["globex"]["committed"] == 1
    assert _state("globex", globex_run)[:2] == ("succeeded", "")
    assert released.skipped == [] and released.swept["acme"]["committed"] == 1
    assert _state("acme", acme_run)[:2] == ("succeeded", "")


@pytest.mark.parametrize("torn", ["parquet", "arrow"])
def test_an_unreadable_staged_file_is_quarantined_its_run_failed_and_the_next_sweep_is_clean(
    world, eugp_curves, settings, torn
):
    broken = _staged("acme", eugp_curves, seed=2)
    fine = _staged("acme", eugp_curves, seed=3)
    other_tenant = _staged("globex", eugp_curves, seed=2)
    uri = broken.output_staged_uri
    filesystem, path = pafs.FileSystem.from_uri(uri)
    with filesystem.open_input_stream(path) as stream:
        staged_bytes = stream.read()
    # A torn write: the start of a Parquet file, or the first half of the Arrow IPC file it was.
    content = b"PAR1 half a file" if torn == "parquet" else staged_bytes[: len(staged_bytes) // 2]
    with filesystem.open_output_stream(path) as stream:
        stream.write(content)

    first = scenario_runs_sweep_tenants()
    second = scenario_runs_sweep_tenants()

    name = uri.rsplit("/", 1)[-1]
    quarantined = f"{settings.AURUM_WAREHOUSE.rstrip('/')}/{QUARANTINE_FOLDER}/acme/{name}"
    assert first.failed == [] and first.skipped == []
    assert first.swept["acme"]["committed"] == 1 and first.swept["globex"]["committed"] == 1
    status, code, staged = _state("acme", broken)
    assert (status, code, staged) == ("failed", "STAGED_OUTPUT_UNREADABLE", "")
    assert broken.error_message.startswith(f"staged outputs unreadable, quarantined at {quarantined}: ")
    assert not _exists(uri) and _exists(quarantined)
    q_filesystem, q_path = pafs.FileSystem.from_uri(quarantined)
    with q_filesystem.open_input_stream(q_path) as stream:
        assert stream.read() == content  # kept as it was, for whoever investigates
    assert _state("acme", fine)[0] == "succeeded" and _state("globex", other_tenant)[0] == "succeeded"
    assert second.failed == [] and second.swept["acme"]["committed"] == 0
    with schema_context("acme"):
        events = list(broken.events.values_list("event_type", flat=True))
    assert events == ["queued", "started", "failed"]


def test_a_run_waiting_for_its_retry_is_not_sent_again_before_its_time(in_acme, eugp_curves, settings):
    stale = settings.AURUM_SCENARIO_STALE_DISPATCH_SECONDS
    scenario = _scenario(in_acme, eugp_curves)
    queued = scenario_run_submit(
        tenant=in_acme, scenario=scenario, options=RunOptions(max_retries=10), actor=None
    ).run
    for attempt in range(8):  # eight transient failures in a row: the next retry waits 2^8 s
        run = scenario_run_start(str(queued.pk))
        assert run is not None
        countdown = run_retry_after_error(run, LockTimeoutError("commit lock not granted"), attempt=attempt)
    run = ScenarioRun.objects.get(pk=queued.pk)
    assert countdown == 256.0 and run.retry_count == 8 and run.status == "queued"
    assert run.retry_at is not None and run.dispatched_at is not None
    assert run.retry_at - run.dispatched_at == timedelta(seconds=256)
    runs = ScenarioRun.objects.filter(pk=run.pk)

    # 150 s later: dispatched longer ago than the stale-dispatch window, but its retry is 106 s away
    runs.update(
        dispatched_at=F("dispatched_at") - timedelta(seconds=150),
        retry_at=F("retry_at") - timedelta(seconds=150),
    )
    early = scenario_runs_sweep(tenant=in_acme)
    after_early = ScenarioRun.objects.get(pk=run.pk)
    # the retry fell due, and nobody started it within the window: sent again
    runs.update(retry_at=timezone.now() - timedelta(seconds=stale + 1))
    late = scenario_runs_sweep(tenant=in_acme)
    after_late = ScenarioRun.objects.get(pk=run.pk)

    assert early["resent"] == 0 and early["dispatched"] == 0
    assert after_early.dispatched_at == run.dispatched_at - timedelta(seconds=150)  # not sent, not touched
    assert late["resent"] == 1
    assert after_late.retry_at is None and after_late.dispatched_at is not None
    assert after_late.dispatched_at > timezone.now() - timedelta(seconds=5)
    assert after_late.status == "queued" and after_late.retry_count == 8
