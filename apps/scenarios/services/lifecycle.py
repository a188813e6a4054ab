"""A run's state changes after submission (finish, fail, re-queue): each records its audit rows (the ledger
entry of a finish or cancel in ``run_finish``) and its domain event in the caller's transaction, and drops
staged rows the run will never commit.

An *attempt* is one start of a run (``retry_count`` when it started). A worker that lost its run (re-queued by
the sweep after its heartbeat stopped, or cancelled) must not finish, fail or re-queue the run's next
attempt, so every transition a worker asks for names its attempt.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import partial
from typing import Any

import structlog
from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, Q, Value
from django.db.models.functions import Now
from django.utils import timezone

from apps.audit.services import AuditRecord, audit_append_many
from apps.scenarios.models import ScenarioRun, ScenarioRunEvent
from apps.scenarios.outputs import staged_output_delete
from aurum.events.publish import event_publish_on_commit, events_publish_on_commit
from aurum.observability.metrics import SCENARIO_RUN_DURATION
from aurum.tenancy.db import tenant_connection
from aurum.transient import backoff_seconds

log = structlog.get_logger(__name__)

Code = ScenarioRun.ErrorCode


def run_event_payload(run: ScenarioRun) -> dict[str, Any]:
    return {
        "run_id": str(run.pk),
        "scenario_id": str(run.scenario_id),
        "status": run.status,
        "priority": run.priority,
        "progress_percent": run.progress_percent,
        "output_rows": run.output_rows,
        "error_message": run.error_message or None,
        "error_code": run.error_code or None,
    }


def run_event_record(run: ScenarioRun, event_type: str, **data: Any) -> None:
    """The run's audit row and its domain event (after commit) on the tenant's stream."""
    ScenarioRunEvent.objects.create(run=run, event_type=event_type, data=data)
    event_publish_on_commit(
        schema_name=tenant_connection().schema_name,
        event_type=f"scenario.run.{event_type}",
        payload=run_event_payload(run) | data,
    )


def runs_event_record(
    runs: Sequence[ScenarioRun],
    event_type: str,
    *,
    data_of: Callable[[ScenarioRun], dict[str, Any]] | None = None,
    **data: Any,
) -> None:
    """``run_event_record`` for several runs at once (one INSERT of their audit rows, one of their events);
    ``data_of(run)``: each run's own data, added to ``data``."""
    per_run = [data | (data_of(run) if data_of else {}) for run in runs]
    ScenarioRunEvent.objects.bulk_create(
        [
            ScenarioRunEvent(run=run, event_type=event_type, data=d)
            for run, d in zip(runs, per_run, strict=True)
        ]
    )
    events_publish_on_commit(
        schema_name=tenant_connection().schema_name,
        events=[
            (f"scenario.run.{event_type}", run_event_payload(run) | d)
            for run, d in zip(runs, per_run, strict=True)
        ],
    )


def run_unstage(run: ScenarioRun) -> None:
    """Forget the run's staged rows; the file is deleted once the caller's transaction commits."""
    uri = run.output_staged_uri
    if uri:
        run.output_staged_uri = ""
        transaction.on_commit(lambda: _staged_delete_quietly(uri))


def _staged_delete_quietly(uri: str) -> None:
    try:
        staged_output_delete(uri)
    except OSError:  # the sweep deletes leftover staging files later
        log.warning("staged scenario output not deleted", uri=uri, exc_info=True)


def _duration_observe(status: str, seconds: float) -> None:
    SCENARIO_RUN_DURATION.labels(outcome=status).observe(seconds)


FINISH_FIELDS = (
    "status",
    "completed_at",
    "duration_seconds",
    "cancelled_at",
    "error_message",
    "error_code",
    "progress_percent",
    "output_staged_uri",
)


def run_finish(
    run: ScenarioRun, status: str, *, error: str = "", code: str = "", fields: Sequence[str] = ()
) -> None:
    """End the run (``fields``: other fields set by the caller, saved in the same UPDATE); any staged rows
    are dropped (a succeeded run's are in Iceberg, any other's are never committed)."""
    runs_finish([run], status, error=error, code=code, fields=fields)


def runs_finish(
    runs: Sequence[ScenarioRun], status: str, *, error: str = "", code: str = "", fields: Sequence[str] = ()
) -> None:
    """``run_finish`` for runs ending together (a group commit): one UPDATE of their rows and one INSERT of
    their ledger entries (one entry per run, in the order of ``runs``), whatever their number."""
    if not runs:
        return
    now = timezone.now()
    for run in runs:
        run.status = status
        run.completed_at = now
        if run.started_at is not None:
            run.duration_seconds = (now - run.started_at).total_seconds()
            transaction.on_commit(partial(_duration_observe, status, run.duration_seconds))
        if status == ScenarioRun.Status.CANCELLED:
            run.cancelled_at = now
        run.error_message = error[:4000]
        run.error_code = code
        run_unstage(run)
    if len(runs) == 1:
        runs[0].save(update_fields=[*FINISH_FIELDS, *fields])
    else:
        ScenarioRun.objects.bulk_update(runs, [*FINISH_FIELDS, *fields])
    # A worker or the sweep finishing a run acts as "system"; a cancel acts as whoever asked for it.
    action = "run.cancel" if status == ScenarioRun.Status.CANCELLED else "run.finish"
    audit_append_many(
        [
            AuditRecord(
                action=action,
                resource_type="scenario_run",
                resource_id=run.pk,
                changes={
                    "scenario": str(run.scenario_id),
                    "status": str(status),
                    "error_code": code,
                    "output_rows": run.output_rows,
                    "output_hash": run.output_hash,
                },
            )
            for run in runs
        ]
    )


def _locked_attempt(run: ScenarioRun, attempt: int | None) -> ScenarioRun | None:
    """The run's row, locked, if it is still running (as ``attempt``, when given); else None."""
    locked = ScenarioRun.objects.select_for_update().get(pk=run.pk)
    if locked.status != ScenarioRun.Status.RUNNING:
        return None
    if attempt is not None and locked.retry_count != attempt:
        return None
    return locked


def run_fail(run: ScenarioRun, status: str, message: str, *, code: str, attempt: int | None = None) -> bool:
    """End a running run with ``status`` (failed, timed_out) and ``code``; False when it was no longer
    running (or no longer running as ``attempt``)."""
    with transaction.atomic():
        locked = _locked_attempt(run, attempt)
        if locked is None:
            return False
        run_finish(locked, status, error=message, code=code)
        run_event_record(locked, str(status), error=message[:500], code=code)
        return True


def _back_to_queue(run: ScenarioRun, message: str) -> None:
    run.retry_count += 1
    run_unstage(run)
    run.status = ScenarioRun.Status.QUEUED
    run.started_at = None
    run.heartbeat_at = None
    run.progress_percent = 0.0
    run.error_message = message[:4000]
    run.save(
        update_fields=[
            "retry_count",
            "status",
            "started_at",
            "heartbeat_at",
            "progress_percent",
            "error_message",
            "dispatched_at",
            "retry_at",
            "output_staged_uri",
        ]
    )


def run_retry_after_error(run: ScenarioRun, exc: BaseException, *, attempt: int) -> float | None:
    """After a transient error: re-queue the run, keeping its slot, to be sent again after a backoff
    (``retry_at``; returned as the countdown), or fail it when out of retries (None)."""
    message = f"{type(exc).__name__}: {exc}"
    with transaction.atomic():
        locked = _locked_attempt(run, attempt)
        if locked is None:
            return None
        if locked.retry_count >= locked.max_retries:
            error = f"{message} (after {locked.retry_count} retries)"
            run_finish(locked, ScenarioRun.Status.FAILED, error=error, code=Code.RETRIES_EXHAUSTED)
            run_event_record(locked, "failed", error=message[:500], code=Code.RETRIES_EXHAUSTED)
            return None
        countdown = backoff_seconds(locked.retry_count)
        now = timezone.now()
        locked.dispatched_at = now
        locked.retry_at = now + timedelta(seconds=countdown)
        _back_to_queue(locked, message)
        run_event_record(locked, "retry", attempt=locked.retry_count, error=message[:500])
        return countdown


def heartbeat_lost(stale_seconds: float) -> Q:
    """Running runs, not yet staged, whose worker has not beaten for ``stale_seconds`` (database time)."""
    cutoff = ExpressionWrapper(Now() - Value(timedelta(seconds=stale_seconds)), output_field=DateTimeField())
    beat_long_ago = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    return Q(status=ScenarioRun.Status.RUNNING, output_staged_uri="") & beat_long_ago


def run_requeue_lost(run: ScenarioRun, *, stale_seconds: float) -> bool:
    """A running run whose worker stopped beating: back to the queue without its slot (the dispatcher hands
    it out again, oldest first), counting the attempt; failed (WORKER_LOST) when out of retries.
    True when it was re-queued; False when it beat meanwhile (checked again under the row lock)."""
    message = f"worker lost: no heartbeat for more than {stale_seconds:g} s"
    with transaction.atomic():
        locked = (
            ScenarioRun.objects.select_for_update()
            .filter(heartbeat_lost(stale_seconds), pk=run.pk, retry_count=run.retry_count)
            .first()
        )
        if locked is None:
            return False
        if locked.retry_count >= locked.max_retries:
            error = f"{message} (after {locked.retry_count} retries)"
            run_finish(locked, ScenarioRun.Status.FAILED, error=error, code=Code.WORKER_LOST)
            run_event_record(locked, "failed", error=error[:500], code=Code.WORKER_LOST)
            return False
        locked.dispatched_at = None
        locked.retry_at = None
        _back_to_queue(locked, message)
        run_event_record(locked, "worker_lost", attempt=locked.retry_count, error=message)
        return True
