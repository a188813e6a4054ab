"""Group commit of run outputs: finished runs stage their rows, then one holder of the table lock appends
every staged run in one Iceberg snapshot. Cancelled staged runs are never committed; a staged run a dead
worker left behind is committed exactly once by the sweep, even when the dead holder's Iceberg commit went
through.

The in-process tests run in the test's transaction (a run is started, computed and staged by the same steps
the worker takes); the last test uses the real Celery worker (threads) and commits."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.audit.models import AuditEntry
from apps.audit.verification import audit_chain_verify
from apps.scenarios.models import Scenario, ScenarioRun
from apps.scenarios.output_hash import output_content_hash
from apps.scenarios.outputs import (
    COMMIT_SORT,
    SORT_COLUMNS,
    STAGED_SORT,
    STAGING_SUFFIX,
    output_rows_append,
    output_table_ensure,
    output_table_name,
    run_row_filter,
    staged_output_files,
    staged_output_read,
)
from apps.scenarios.selectors import run_output_table
from apps.scenarios.services import commit as commit_service
from apps.scenarios.services.commit import scenario_outputs_commit, scenario_run_stage
from apps.scenarios.services.execution import scenario_run_compute, scenario_run_start
from apps.scenarios.services.inputs import CurveSelection, RunOptions
from apps.scenarios.services.runs import (
    scenario_run_cancel,
    scenario_run_submit,
    scenario_runs_submit_bulk,
)
from apps.scenarios.services.scenarios import scenario_create
from apps.scenarios.services.sweep import scenario_runs_sweep
from aurum.events.models import OutboxEvent
from aurum.lakehouse.catalog import get_catalog
from tests.support.scenarios import (
    BASE_DAY,
    POLICY,
    fixed_price_curves,
    output_table_locked,
    staged_run,
    wait_for,
)

RUN_IDS = "aurum.run-ids"


def _scenario(tenant: Any, curves: Any, assumptions: list[dict[str, Any]] | None = None) -> Scenario:
    return scenario_create(
        tenant=tenant,
        name=f"group commit {uuid.uuid4()}",
        actor=None,
        assumptions=assumptions or [POLICY],
        selection=CurveSelection(curve_keys=curves.curve_keys, base_asof=curves.asof),
    )


def _exists(uri: str) -> bool:
    filesystem, path = pafs.FileSystem.from_uri(uri)
    return filesystem.get_file_info(path).type == pafs.FileType.File


def _iceberg_rows(schema: str, run: ScenarioRun) -> pa.Table:
    """The run's rows in the table's current snapshot, straight from pyiceberg."""
    table = get_catalog().load_table(output_table_name(schema))
    return table.scan(
        row_filter=run_row_filter(scenario_id=str(run.scenario_id), run_id=str(run.pk))
    ).to_arrow()


def _snapshots_listing(schema: str, run_id: str) -> list[int]:
    table = get_catalog().load_table(output_table_name(schema))
    return [
        s.snapshot_id
        for s in table.metadata.snapshots
        if s.summary is not None and run_id in s.summary.get(RUN_IDS, "").split(",")
    ]


def test_runs_staged_together_are_appended_in_one_snapshot_each_with_exactly_its_rows(
    in_acme, eugp_curves, django_capture_on_commit_callbacks
):
    scenario = _scenario(in_acme, eugp_curves)
    staged = [staged_run(in_acme, scenario, seed) for seed in range(3)]
    uris = [run.output_staged_uri for run, _ in staged]
    assert all(_exists(uri) for uri in uris)

    with django_capture_on_commit_callbacks(execute=True):
        committed = scenario_outputs_commit(tenant=in_acme, hand_over=True)
    # the second run's thread commits next: its run is already committed and nothing is staged
    again = scenario_outputs_commit(tenant=in_acme, hand_over=True)

    assert sorted(committed) == sorted(str(run.pk) for run, _ in staged) and again == []
    expected_rows = 3 * eugp_curves.rows.num_rows  # mid, uplift, policy_uplift per quoted tenor
    snapshots = set()
    for run, computed in staged:
        run.refresh_from_db()
        assert run.status == "succeeded" and run.output_staged_uri == ""
        assert run.output_rows == computed.num_rows == expected_rows
        assert run.output_hash == output_content_hash(computed)
        assert run.base_asof == eugp_curves.asof and run.progress_percent == 100.0
        assert list(run.events.values_list("event_type", flat=True)) == ["queued", "started", "succeeded"]
        rows = _iceberg_rows("acme", run)
        assert rows.num_rows == expected_rows
        assert output_content_hash(rows) == run.output_hash
        assert set(rows.column("version_hash").to_pylist()) == {run.input_hash}
        assert output_content_hash(run_output_table(tenant=in_acme, run=run, metric=None)) == run.output_hash
        assert _snapshots_listing("acme", str(run.pk)) == [run.output_snapshot_id]
        snapshots.add(run.output_snapshot_id)
    assert len(snapshots) == 1  # three runs, one Iceberg snapshot
    assert not any(_exists(uri) for uri in uris)  # staging files deleted after the commit


def test_staging_is_one_guarded_update_and_a_run_cancelled_while_computing_is_not_staged(
    in_acme, eugp_curves, django_capture_on_commit_callbacks
):
    """Given two computed runs, one cancelled before it stages: staging the other is one statement (its
    path recorded); staging the cancelled one is one statement too, records nothing and leaves no file."""
    scenario = _scenario(in_acme, eugp_curves)
    computed = []
    for seed in (1, 2):
        submitted = scenario_run_submit(
            tenant=in_acme, scenario=scenario, options=RunOptions(seed=seed), actor=None
        )
        run = scenario_run_start(str(submitted.run.pk))
        assert run is not None
        computed.append((run, *scenario_run_compute(run=run, tenant=in_acme)))
    (kept, kept_base, kept_rows), (cancelled, cancelled_base, cancelled_rows) = computed
    with django_capture_on_commit_callbacks(execute=True):
        scenario_run_cancel(run=ScenarioRun.objects.get(pk=cancelled.pk), tenant=in_acme)

    with CaptureQueriesContext(connection) as staging:
        staged = scenario_run_stage(run=kept, tenant=in_acme, base=kept_base, table=kept_rows)
    with CaptureQueriesContext(connection) as refused:
        not_staged = scenario_run_stage(
            run=cancelled, tenant=in_acme, base=cancelled_base, table=cancelled_rows
        )

    assert staged and len(staging) == 1
    assert ScenarioRun.objects.get(pk=kept.pk).output_staged_uri == kept.output_staged_uri != ""
    assert _exists(kept.output_staged_uri)
    assert not not_staged and len(refused) == 1
    assert ScenarioRun.objects.get(pk=cancelled.pk).output_staged_uri == ""
    assert not any(str(cancelled.pk) in uri for uri, _ in staged_output_files("acme"))


def test_a_run_cancelled_after_staging_is_not_committed_and_its_file_is_deleted(
    in_acme, eugp_curves, django_capture_on_commit_callbacks
):
    scenario = _scenario(in_acme, eugp_curves)
    cancelled, _ = staged_run(in_acme, scenario, seed=1)
    kept, computed = staged_run(in_acme, scenario, seed=2)
    uri = cancelled.output_staged_uri

    with django_capture_on_commit_callbacks(execute=True):
        scenario_run_cancel(run=cancelled, tenant=in_acme)
    assert not _exists(uri)
    committed = scenario_outputs_commit(tenant=in_acme, hand_over=True)  # the next committer
    again = scenario_outputs_commit(tenant=in_acme, hand_over=True)

    cancelled.refresh_from_db()
    kept.refresh_from_db()
    assert committed == [str(kept.pk)] and again == []
    assert cancelled.status == "cancelled" and cancelled.output_staged_uri == ""
    assert cancelled.output_rows == 0 and cancelled.output_hash == "" and cancelled.output_snapshot_id is None
    assert list(cancelled.events.values_list("event_type", flat=True)) == ["queued", "started", "cancelled"]
    assert (
        _iceberg_rows("acme", cancelled).num_rows == 0 and _snapshots_listing("acme", str(cancelled.pk)) == []
    )
    assert kept.status == "succeeded" and _iceberg_rows("acme", kept).num_rows == computed.num_rows


def test_the_sweep_commits_a_staged_run_a_dead_worker_left_exactly_once(
    in_acme, eugp_curves, django_capture_on_commit_callbacks
):
    scenario = _scenario(in_acme, eugp_curves)
    run, computed = staged_run(in_acme, scenario, seed=7)  # ... and the worker dies here
    uri = run.output_staged_uri

    with django_capture_on_commit_callbacks(execute=True):
        first = scenario_runs_sweep(tenant=in_acme)
    second = scenario_runs_sweep(tenant=in_acme)

    run.refresh_from_db()
    assert first["committed"] == 1 and second["committed"] == 0
    assert run.status == "succeeded" and run.output_rows == computed.num_rows
    assert run.output_hash == output_content_hash(computed)
    rows = _iceberg_rows("acme", run)
    assert rows.num_rows == computed.num_rows  # once, not twice
    assert output_content_hash(rows) == run.output_hash
    assert _snapshots_listing("acme", str(run.pk)) == [run.output_snapshot_id]
    assert not _exists(uri)


def test_a_holder_that_died_after_its_iceberg_commit_is_not_appended_again(
    in_acme, eugp_curves, django_capture_on_commit_callbacks
):
    scenario = _scenario(in_acme, eugp_curves)
    run, computed = staged_run(in_acme, scenario, seed=8)
    # The dead holder appended the rows, then lost its database transaction: the run is still staged.
    snapshot_id = output_rows_append(output_table_ensure("acme"), computed, run_ids=[str(run.pk)])
    assert ScenarioRun.objects.get(pk=run.pk).status == "running"

    with django_capture_on_commit_callbacks(execute=True):
        swept = scenario_runs_sweep(tenant=in_acme)

    run.refresh_from_db()
    assert swept["committed"] == 1
    assert run.status == "succeeded" and run.output_snapshot_id == snapshot_id
    assert _iceberg_rows("acme", run).num_rows == computed.num_rows
    assert _snapshots_listing("acme", str(run.pk)) == [snapshot_id]


def _in_order(rows: pa.Table, columns: tuple[str, ...]) -> bool:
    return rows.equals(rows.sort_by([(column, "ascending") for column in columns]))


def _data_files_rows(schema: str, scenario: Scenario) -> list[pa.Table]:
    """The scenario's rows as each data file of the current snapshot holds them (file order)."""
    table = get_catalog().load_table(output_table_name(schema))
    files = []
    for task in table.scan(row_filter=f"scenario_id == '{scenario.pk}'").plan_files():
        filesystem, path = pafs.FileSystem.from_uri(task.file.file_path)
        files.append(pq.read_table(path, filesystem=filesystem))
    return files


def test_runs_are_staged_sorted_and_committed_in_run_then_curve_order_without_sorting_again(
    in_acme, eugp_curves, monkeypatch
):
    """Given three staged runs, each staging file holds its run's rows sorted by metric, curve, tenor and
    month; the commit appends them without sorting them again (under the lock) and every data file (one
    metric's) holds its rows in run_id, curve, tenor, month order, as a full sort would give."""
    scenario = _scenario(in_acme, eugp_curves)
    staged = [staged_run(in_acme, scenario, seed) for seed in range(3)]
    for run, _ in staged:
        output = staged_output_read(run.output_staged_uri)
        assert output is not None and output.sorted_by == STAGED_SORT
        assert _in_order(output.rows, STAGED_SORT)
    presorted: list[bool] = []

    def append_spy(*args: Any, **kwargs: Any) -> int | None:
        presorted.append(kwargs["presorted"])
        return output_rows_append(*args, **kwargs)

    monkeypatch.setattr(commit_service, "output_rows_append", append_spy)

    committed = scenario_outputs_commit(tenant=in_acme, hand_over=True)

    assert sorted(committed) == sorted(str(run.pk) for run, _ in staged) and presorted == [True]
    files = _data_files_rows("acme", scenario)
    assert sum(rows.num_rows for rows in files) == sum(computed.num_rows for _, computed in staged)
    for rows in files:
        assert _in_order(rows, COMMIT_SORT) and len(set(rows.column("metric").to_pylist())) == 1


@pytest.mark.parametrize("sorted_by", [(), SORT_COLUMNS], ids=["unsorted", "sorted"])
def test_a_run_staged_as_parquet_by_an_earlier_release_is_still_committed_in_order(
    in_acme, eugp_curves, sorted_by, django_capture_on_commit_callbacks
):
    """Given a run staged by an earlier release (a ``<run_id>.parquet`` staging file, its rows in the engine's
    order without ``sorted_by``, or sorted) beside a run staged now, the commit appends both: the old run
    succeeds with its hash, its file is deleted, and the data files hold the rows in run_id, curve, tenor,
    month, metric order."""
    scenario = _scenario(in_acme, eugp_curves)
    old, computed = staged_run(in_acme, scenario, seed=1)
    new, _ = staged_run(in_acme, scenario, seed=2)
    output = staged_output_read(old.output_staged_uri)
    assert output is not None
    meta = {"output_hash": output.output_hash, "base_asof": output.base_asof.isoformat(), "curve_units": {}}
    rows = computed
    if sorted_by:
        meta["sorted_by"] = list(sorted_by)
        rows = computed.sort_by([(column, "ascending") for column in sorted_by])
    filesystem, path = pafs.FileSystem.from_uri(old.output_staged_uri)
    filesystem.delete_file(path)
    parquet_uri = old.output_staged_uri.removesuffix(STAGING_SUFFIX) + ".parquet"
    _, parquet_path = pafs.FileSystem.from_uri(parquet_uri)
    pq.write_table(
        rows.replace_schema_metadata({b"aurum.staged": json.dumps(meta).encode()}),
        parquet_path,
        filesystem=filesystem,
        compression="none",
    )
    ScenarioRun.objects.filter(pk=old.pk).update(output_staged_uri=parquet_uri)
    assert not _in_order(computed, SORT_COLUMNS)  # the engine's order is not the table's

    with django_capture_on_commit_callbacks(execute=True):
        scenario_outputs_commit(tenant=in_acme, hand_over=True)

    old.refresh_from_db()
    assert old.status == "succeeded" and old.output_hash == output_content_hash(computed)
    assert old.output_rows == computed.num_rows and not _exists(parquet_uri)
    for data_file in _data_files_rows("acme", scenario):
        assert _in_order(data_file, COMMIT_SORT)


def test_a_run_is_staged_as_an_arrow_ipc_file_that_reads_back_exactly_its_rows(in_acme, eugp_curves):
    """Given a computed run, its staging file is ``<run_id>.arrow``, an Arrow IPC file with compressed
    buffers, and it reads back as exactly the run's rows (sorted by metric, then for the table) with their
    hash."""
    scenario = _scenario(in_acme, eugp_curves)
    run, computed = staged_run(in_acme, scenario, seed=4)

    assert run.output_staged_uri.endswith(f"/{run.pk}{STAGING_SUFFIX}")
    filesystem, path = pafs.FileSystem.from_uri(run.output_staged_uri)
    with filesystem.open_input_file(path) as source:
        data = source.read()
    assert data[:6] == b"ARROW1"
    reader = pa.ipc.open_file(pa.BufferReader(data))
    assert reader.num_record_batches >= 1
    assert len(data) < reader.read_all().nbytes / 2  # the buffers are compressed
    output = staged_output_read(run.output_staged_uri)
    assert output is not None and output.output_hash == output_content_hash(computed)
    expected = computed.cast(output.rows.schema).sort_by([(c, "ascending") for c in STAGED_SORT])
    assert output.rows.equals(expected)


def _commit_statements(tenant: Any, curves: Any, n: int) -> tuple[list[ScenarioRun], int]:
    """Stage ``n`` runs, then group-commit them; the runs and the SQL statements of the commit."""
    scenario = _scenario(tenant, curves)
    runs = [staged_run(tenant, scenario, seed)[0] for seed in range(n)]
    with CaptureQueriesContext(connection) as statements:
        committed = scenario_outputs_commit(tenant=tenant, hand_over=True)
    assert sorted(committed) == sorted(str(run.pk) for run in runs)
    return sorted(runs, key=lambda run: run.pk), len(statements)


def test_a_group_commit_finishes_its_runs_with_statements_that_do_not_grow_with_their_number(
    in_acme, eugp_curves
):
    """Given 2, then 5 staged runs, when each group is committed, then both commits issue the same number
    of statements (one UPDATE of the runs, one ledger INSERT, one event INSERT, one outbox INSERT), and each
    run still has its own finish entry (in run order, the chain intact), its succeeded event with its own
    duration, and its published event."""
    _, two = _commit_statements(in_acme, eugp_curves, 2)
    runs, five = _commit_statements(in_acme, eugp_curves, 5)

    assert five == two
    run_ids = [str(run.pk) for run in runs]
    finishes = AuditEntry.objects.filter(action="run.finish", resource_id__in=run_ids).order_by("sequence")
    assert [e.resource_id for e in finishes] == run_ids
    for entry, run in zip(finishes, runs, strict=True):
        run.refresh_from_db()
        assert run.status == "succeeded" and run.output_staged_uri == "" and run.progress_percent == 100.0
        assert json.loads(entry.changes) == {
            "scenario": str(run.scenario_id),
            "status": "succeeded",
            "error_code": "",
            "output_rows": run.output_rows,
            "output_hash": run.output_hash,
        }
        event = run.events.get(event_type="succeeded")
        assert run.duration_seconds is not None and run.duration_seconds > 0
        assert event.data == {"duration_seconds": run.duration_seconds}
    assert audit_chain_verify().ok
    published = OutboxEvent.objects.filter(event_type="scenario.run.succeeded", payload__run_id__in=run_ids)
    assert sorted(e.payload["run_id"] for e in published) == run_ids
    assert {e.payload["status"] for e in published} == {"succeeded"}


# --- with the real worker ---------------------------------------------------------------------------------


@pytest.mark.live
def test_runs_finishing_together_under_a_real_worker_share_one_snapshot(acme_live, celery_worker):
    tenant, created = acme_live
    tenant.plan.concurrent_scenario_runs = 4
    tenant.plan.save(update_fields=["concurrent_scenario_runs"])
    curves = fixed_price_curves(BASE_DAY, n=8)
    stochastic = {
        "driver_type": "stochastic",
        "payload": {"distribution_type": "lognormal", "parameters": {"sigma": 0.3}, "base_driver": POLICY},
    }
    scenario = _scenario(tenant, curves, [POLICY, stochastic])
    created.append(scenario)
    runs = ScenarioRun.objects.filter(scenario=scenario)

    with output_table_locked("acme"):  # a commit in progress: the four runs stage and wait behind it
        scenario_runs_submit_bulk(
            tenant=tenant,
            scenario=scenario,
            runs=[RunOptions(seed=i, parameters={"n_paths": 200}) for i in range(4)],
            actor=None,
        )
        wait_for(lambda: runs.exclude(output_staged_uri="").count() == 4, 60, "four staged runs")
        assert not runs.filter(status="succeeded").exists()
    wait_for(lambda: not runs.exclude(status__in=ScenarioRun.FINISHED).exists(), 60, "all runs to finish")

    finished = list(runs)
    assert {r.status for r in finished} == {"succeeded"}
    assert len({r.output_snapshot_id for r in finished}) == 1  # 4 runs, 1 snapshot
    expected_rows = 3 * curves.rows.num_rows
    table = get_catalog().load_table(output_table_name("acme"))
    mine = table.scan(
        row_filter=f"scenario_id == '{scenario.pk}'", snapshot_id=finished[0].output_snapshot_id
    ).to_arrow()
    assert Counter(mine.column("run_id").to_pylist()) == {str(r.pk): expected_rows for r in finished}
    for run in finished:
        own = mine.filter(pc.equal(mine.column("run_id"), str(run.pk)))
        assert run.output_rows == expected_rows and output_content_hash(own) == run.output_hash
        assert run.output_staged_uri == ""
    assert len({r.output_hash for r in finished}) == 4  # different seeds, different paths
