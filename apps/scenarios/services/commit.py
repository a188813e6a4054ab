"""A computed run's rows: staged to a file outside any lock, then group-committed into the tenant's Iceberg
table with every other staged run (one snapshot), by whichever worker or sweep is the tenant's committer.
A worker that finds another committer at work hands its staged run over to it and goes on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pyarrow as pa
import structlog
from django.db import transaction
from django.db.models import QuerySet

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
from aurum.lakehouse.locks import advisory_xact_lock, advisory_xact_try_lock
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


def _runs_staged() -> QuerySet[ScenarioRun]:
    """The tenant's runs waiting for a group commit: running, with a staged file. A committer's check after
    releasing its lock and its next round's select must see the same runs (decision 0067)."""
    return ScenarioRun.objects.filter(status=ScenarioRun.Status.RUNNING).exclude(output_staged_uri="")


def runs_staged_exist() -> bool:
    return _runs_staged().exists()


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


def committer_lock_name(schema_name: str) -> str:
    return f"scenario-output-committer:{schema_name}"


def scenario_outputs_commit(
    *,
    tenant: Tenant,
    lock_timeout: float | None = None,
    hand_over: bool = False,
    after_round: Callable[[], object] | None = None,
) -> list[str]:
    """The group commit: append every staged, still-running run's rows of the tenant in ONE Iceberg snapshot
    and finish those runs (succeeded); again while runs were staged meanwhile. Return the runs' ids.

    One committer per tenant at a time, on the tenant's committer lock; under it, the output table's lock.
    ``hand_over`` (a worker, after staging its run): when another committer holds the committer lock, return
    at once and leave the run to it; the worker's thread takes its next run instead of queueing behind the
    commit. This loses no run: every committer looks for staged runs again after it releases the lock, and
    commits them; a run staged before its worker's try failed is staged before that release (decision 0067).
    Without ``hand_over`` (the sweep) the committer lock is waited for.

    A run whose id a snapshot already lists (a commit whose database transaction was lost) is finished on
    that snapshot without appending again; a run whose staged file is gone or unreadable fails (the latter
    quarantined). ``lock_timeout`` bounds each lock wait (LockTimeoutError after it: the runs stay staged
    for the next committer or the sweep). ``after_round`` is called after each round's transaction (the
    worker hands the runs' freed slots to queued runs there, not after the last round).
    """
    schema = tenant.schema_name
    committed: list[str] = []
    try_only = hand_over
    while True:
        with transaction.atomic():
            if try_only:
                if not advisory_xact_try_lock(committer_lock_name(schema)):
                    return committed  # its holder looks for staged runs again once it has released it
            else:
                advisory_xact_lock(committer_lock_name(schema), timeout_seconds=lock_timeout)
            output_table_lock(schema, timeout_seconds=lock_timeout)
            committed += _staged_commit(schema)
        if after_round is not None:
            after_round()
        # Released. A run staged while it was held, whose worker's try failed, is this committer's to take.
        if not runs_staged_exist():
            return committed
        try_only = True


def _staged_commit(schema: str) -> list[str]:
    """One round of the group commit (the caller holds both locks in its transaction)."""
    staged = list(_runs_staged().select_for_update().order_by("id"))
    if not staged:
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
    # One UPDATE, one ledger INSERT, one event INSERT and one outbox INSERT for all of them: the commit
    # holds the table's lock, so what it does for each run it does once for all.
    runs_finish(
        succeeded,
        ScenarioRun.Status.SUCCEEDED,
        fields=["output_snapshot_id", "output_rows", "output_hash", "base_asof", "curve_units"],
    )
    runs_event_record(succeeded, "succeeded", data_of=lambda run: {"duration_seconds": run.duration_seconds})
    if len(outputs) > 1 or already:
        log.info("scenario outputs group-committed", runs=len(outputs), appended=len(to_append))
    return list(outputs)
