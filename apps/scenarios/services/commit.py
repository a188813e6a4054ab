"""A computed run's rows: staged to a file outside any lock, then group-committed into the tenant's Iceberg
table with every other staged run (one snapshot), by whichever worker or sweep holds the table's lock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyarrow as pa
import structlog
from django.db import transaction

from apps.scenarios.models import ScenarioRun
from apps.scenarios.output_hash import output_content_hash
from apps.scenarios.outputs import (
    StagedOutput,
    StagedOutputUnreadableError,
    committed_run_snapshots,
    output_rows_append,
    output_rows_stage,
    output_table_ensure,
    output_table_lock,
    staged_output_delete,
    staged_output_quarantine,
    staged_output_read,
    staged_outputs_rows,
)
from apps.scenarios.services.lifecycle import run_event_record, run_finish, runs_event_record, runs_finish
from tenants.models import Tenant

log = structlog.get_logger(__name__)

COMMIT_LOOKBACK = timedelta(minutes=5)  # clock skew between the writer of a snapshot and the database
Code = ScenarioRun.ErrorCode


def scenario_run_stage(*, run: ScenarioRun, tenant: Tenant, base: Any, table: pa.Table) -> bool:
    """Write a computed run's rows to its staging file and record it on the run (``output_staged_uri``);
    False (and no file) when the run was cancelled or re-queued meanwhile. No lock is held while writing."""
    uri = output_rows_stage(
        tenant.schema_name,
        str(run.pk),
        table,
        output_hash=output_content_hash(table),
        base_asof=base.asof,
        curve_units=base.units,
    )
    # One guarded UPDATE of the one field (the staging path is worker plumbing, not a state change): it
    # matches only while the run is still running as this attempt; a cancel holding the row lock is waited
    # for, then the run no longer matches.
    still_mine = ScenarioRun.objects.filter(
        pk=run.pk, status=ScenarioRun.Status.RUNNING, retry_count=run.retry_count
    ).update(output_staged_uri=uri)
    if not still_mine:
        staged_output_delete(uri)  # cancelled, or handed to another worker, while computing
        return False
    run.output_staged_uri = uri
    return True


def runs_staged_exist() -> bool:
    return (
        ScenarioRun.objects.filter(status=ScenarioRun.Status.RUNNING).exclude(output_staged_uri="").exists()
    )


def _staged_read(run: ScenarioRun, schema: str) -> StagedOutput | None:
    """The run's staged rows; None (and the run failed) when its file is gone or unreadable: an unreadable
    file is moved to the quarantine so that no later commit trips on it again."""
    uri = run.output_staged_uri
    try:
        output = staged_output_read(uri)
    except StagedOutputUnreadableError as exc:
        moved = staged_output_quarantine(uri, schema)
        log.error("staged scenario output quarantined", tenant=schema, run_id=str(run.pk), uri=uri, to=moved)
        run.output_staged_uri = ""  # moved: nothing to delete
        error = f"staged outputs unreadable, quarantined at {moved}: {exc}"
        run_finish(run, ScenarioRun.Status.FAILED, error=error, code=Code.STAGED_OUTPUT_UNREADABLE)
        run_event_record(run, "failed", error=error[:500], code=Code.STAGED_OUTPUT_UNREADABLE)
        return None
    if output is None:
        error = "staged outputs lost before their commit"
        run_finish(run, ScenarioRun.Status.FAILED, error=error, code=Code.STAGED_OUTPUT_LOST)
        run_event_record(run, "failed", error=error, code=Code.STAGED_OUTPUT_LOST)
    return output


def scenario_outputs_commit(
    *, tenant: Tenant, run_id: str | None = None, lock_timeout: float | None = None
) -> list[str]:
    """The group commit: under the tenant's output-table lock, append every staged, still-running run's rows
    in ONE Iceberg snapshot and finish those runs (succeeded); return their ids.

    With ``run_id`` (a worker, after staging that run) nothing is done when that run was already committed
    by another thread meanwhile; without it (the sweep) whatever is staged is committed. A run whose id a
    snapshot already lists (a commit whose database transaction was lost) is finished on that snapshot
    without appending again; a run whose staged file is gone or unreadable fails (the latter quarantined).
    ``lock_timeout`` bounds the wait for the table's lock (LockTimeoutError after it).
    """
    schema = tenant.schema_name
    with transaction.atomic():
        output_table_lock(schema, timeout_seconds=lock_timeout)
        staged = list(
            ScenarioRun.objects.select_for_update()
            .filter(status=ScenarioRun.Status.RUNNING)
            .exclude(output_staged_uri="")
            .order_by("id")
        )
        if not staged or (run_id is not None and run_id not in {str(r.pk) for r in staged}):
            return []
        table = output_table_ensure(schema)  # loaded once per group commit, under the lock
        already = committed_run_snapshots(table, since=min(r.created_at for r in staged) - COMMIT_LOOKBACK)
        outputs = {}
        for run in staged:
            output = _staged_read(run, schema)
            if output is not None:
                outputs[str(run.pk)] = output
        to_append = [rid for rid in outputs if rid not in already]
        snapshot_id: int | None = None
        if to_append:
            rows, presorted = staged_outputs_rows({rid: outputs[rid] for rid in to_append})
            snapshot_id = output_rows_append(table, rows, run_ids=to_append, presorted=presorted)
        succeeded = [run for run in staged if str(run.pk) in outputs]
        for run in succeeded:
            output = outputs[str(run.pk)]
            run.output_snapshot_id = already.get(str(run.pk), snapshot_id)
            run.output_rows = output.rows.num_rows
            run.output_hash = output.output_hash
            run.base_asof = output.base_asof
            run.curve_units = output.curve_units
            run.progress_percent = 100.0
        # One UPDATE, one ledger INSERT, one event INSERT and one outbox INSERT for all of them: the
        # commit holds the table's lock, and the other runs' threads wait for it.
        runs_finish(
            succeeded,
            ScenarioRun.Status.SUCCEEDED,
            fields=["output_snapshot_id", "output_rows", "output_hash", "base_asof", "curve_units"],
        )
        runs_event_record(
            succeeded, "succeeded", data_of=lambda run: {"duration_seconds": run.duration_seconds}
        )
    if len(outputs) > 1 or already:
        log.info("scenario outputs group-committed", runs=len(outputs), appended=len(to_append))
    return list(outputs)
