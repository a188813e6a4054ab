"""The worker's side of a run: start it, compute it (beating, watching for cancel and timeout, within its
memory limit), stage and commit its rows, or fail / retry it; and reproduce a finished run."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import structlog
from django.conf import settings
from django.db import transaction
from django.db.models.functions import Now
from django.utils import timezone

from apps.scenarios.engine import (
    EngineOptions,
    RunCancelled,
    ScenarioValidationError,
    run_scenario,
    scenario_output_table,
)
from apps.scenarios.engine.memory import run_memory_bytes
from apps.scenarios.engine.rows import METRICS
from apps.scenarios.models import ScenarioRun
from apps.scenarios.output_hash import output_content_hash
from apps.scenarios.selectors import BaseCurves, BaseCurvesError, run_base_curves
from apps.scenarios.services.commit import scenario_outputs_commit, scenario_run_stage
from apps.scenarios.services.dispatch import run_send, scenario_runs_dispatch
from apps.scenarios.services.inputs import DEFAULT_PATHS
from apps.scenarios.services.lifecycle import (
    run_event_payload,
    run_event_record,
    run_fail,
    run_retry_after_error,
)
from aurum.errors import ConflictError
from aurum.events.publish import event_publish
from aurum.lakehouse.locks import LockTimeoutError
from aurum.transient import TRANSIENT_ERRORS
from tenants.models import Tenant

log = structlog.get_logger(__name__)

PROGRESS_EVERY_SECONDS = 0.5
BEAT_EVERY_SECONDS = 0.5  # the cancel check is the heartbeat: one UPDATE at most this often
MB = 1024 * 1024
Status = ScenarioRun.Status
Code = ScenarioRun.ErrorCode


class RunTimedOutError(Exception):
    pass


class RunMemoryExceededError(Exception):
    pass


def scenario_run_start(run_id: str) -> ScenarioRun | None:
    """Take a queued run (running, first heartbeat); None when it was cancelled meanwhile or this is a
    duplicate delivery of a started run."""
    with transaction.atomic():
        run = ScenarioRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != Status.QUEUED:
            return None
        run.status = Status.RUNNING
        run.started_at = timezone.now()
        run.heartbeat_at = Now()
        run.retry_at = None
        run.progress_percent = 0.0
        run.error_message = ""
        run.save(
            update_fields=[
                "status",
                "started_at",
                "heartbeat_at",
                "retry_at",
                "progress_percent",
                "error_message",
            ]
        )
        # The beat is database time (Now()): left unloaded rather than read back (loaded if ever read).
        del run.heartbeat_at
        run_event_record(run, "started", attempt=run.retry_count + 1)
    return run


class RunWatch:
    """The engine's cancel and progress hooks, and the run's heartbeat.

    The cancel check is an UPDATE of ``heartbeat_at`` (database time) that only matches while the run is
    still running as this attempt: at most every 0.5 s, it both says "alive" to the sweep and learns that the
    run was cancelled or handed to another worker (then the computation stops between chunks).
    """

    def __init__(self, run: ScenarioRun, schema_name: str) -> None:
        self.run = run
        self.attempt = run.retry_count
        self.schema_name = schema_name
        self.started = time.monotonic()
        self.deadline = self.started + run.timeout_minutes * 60
        self.last_beat = self.started
        # The first progress tick after 0.5 s of running: a shorter run announces only its start and end.
        self.last_progress = self.started
        self.lost = False  # a beat matched nothing: cancelled, or handed to another worker

    def _mine(self) -> Any:
        return ScenarioRun.objects.filter(pk=self.run.pk, status=Status.RUNNING, retry_count=self.attempt)

    def beat(self) -> bool:
        """Record a heartbeat; False when the run is no longer this attempt's to compute."""
        self.last_beat = time.monotonic()
        self.lost = self.lost or not self._mine().update(heartbeat_at=Now())
        return not self.lost

    def should_cancel(self) -> bool:
        now = time.monotonic()
        if now > self.deadline:
            raise RunTimedOutError(f"no result within {self.run.timeout_minutes} minute(s)")
        if self.lost or now - self.last_beat < BEAT_EVERY_SECONDS:
            return self.lost
        return not self.beat()

    def on_progress(self, fraction: float) -> None:
        now = time.monotonic()
        if fraction >= 1.0 or now - self.last_progress < PROGRESS_EVERY_SECONDS:
            return  # the end is announced by the state change (succeeded, 100 %), not by a progress event
        self.last_progress = self.last_beat = now
        percent = round(min(fraction, 1.0) * 95.0, 1)  # the last 5 % are the write
        self.lost = self.lost or not self._mine().update(progress_percent=percent, heartbeat_at=Now())
        self.run.progress_percent = percent
        event_publish(
            schema_name=self.schema_name,
            event_type="scenario.run.progress",
            payload=run_event_payload(self.run),
        )


def run_memory_check(*, run: ScenarioRun, base: BaseCurves) -> int:
    """The run's estimated peak memory in bytes; RunMemoryExceededError when over its ``max_memory_mb``."""
    parameters = run.options.get("parameters", {})
    n_paths = int(parameters.get("n_paths", DEFAULT_PATHS))
    n_curves, n_tenors = len(base.curves.curve_keys), len(base.curves.tenor_labels)
    needed = run_memory_bytes(
        n_curves=n_curves,
        n_tenors=n_tenors,
        n_paths=n_paths,
        assumptions=run.options["inputs"]["assumptions"],
        n_metrics=len(parameters.get("metrics", METRICS)),
    )
    limit_mb = int(run.options.get("max_memory_mb", 1024))
    if needed > limit_mb * MB:
        raise RunMemoryExceededError(
            f"the run needs about {needed / MB:,.0f} MB ({n_curves} curves x {n_tenors} tenors, "
            f"{n_paths} paths) and max_memory_mb is {limit_mb}; raise max_memory_mb, or run fewer curves "
            "or paths"
        )
    return needed


def scenario_run_compute(
    *, run: ScenarioRun, tenant: Tenant, watch: RunWatch | None = None
) -> tuple[BaseCurves, pa.Table]:
    """The run's base curves and output rows (an Arrow table), computed from its frozen inputs on its
    recorded snapshot, after checking that they fit in its ``max_memory_mb``."""
    base = run_base_curves(run=run, tenant=tenant)
    if watch is not None and watch.should_cancel():
        raise RunCancelled
    run_memory_check(run=run, base=base)
    inputs = run.options["inputs"]
    parameters = run.options.get("parameters", {})
    options = EngineOptions(
        seed=run.seed,
        n_paths=int(parameters.get("n_paths", DEFAULT_PATHS)),
        should_cancel=watch.should_cancel if watch else None,
        on_progress=watch.on_progress if watch else None,
    )
    result = run_scenario(base.curves, inputs["assumptions"], asof=base.asof, options=options)
    if watch is not None and watch.should_cancel():
        raise RunCancelled
    table = scenario_output_table(
        result,
        asof_date=base.asof,
        scenario_id=str(run.scenario_id),
        tenant_id=tenant.schema_name,
        run_id=str(run.pk),
        version_hash=run.input_hash,
        metrics=parameters.get("metrics", list(METRICS)),
    )
    return base, table


def scenario_run_execute(*, run_id: str, tenant: Tenant) -> ScenarioRun | None:
    """Start a queued run, compute it, write its outputs, finish it; then let the next queued run start.

    Cancellation (seen between chunks and before the write) stops it without output; the timeout makes it
    timed_out; a run over its memory limit fails before computing; a transient error (database, Iceberg
    commit, connection) re-queues it up to max_retries times with backoff; any other error fails it.
    Returns the run, or None when there was nothing to start.
    """
    run = scenario_run_start(run_id)
    if run is None:
        return None
    attempt = run.retry_count
    watch = RunWatch(run, tenant.schema_name)
    retry_in: float | None = None
    try:
        base, table = scenario_run_compute(run=run, tenant=tenant, watch=watch)
        _succeed(run, tenant, base, table)
    except RunCancelled:
        pass  # cancelled (recorded by scenario_run_cancel) or handed to another worker by the sweep
    except RunTimedOutError as exc:
        run_fail(run, Status.TIMED_OUT, str(exc), code=Code.TIMED_OUT, attempt=attempt)
    except RunMemoryExceededError as exc:
        run_fail(run, Status.FAILED, str(exc), code=Code.MEMORY_LIMIT_EXCEEDED, attempt=attempt)
    except ScenarioValidationError as exc:
        run_fail(run, Status.FAILED, str(exc), code=Code.INVALID_ASSUMPTIONS, attempt=attempt)
    except BaseCurvesError as exc:
        run_fail(run, Status.FAILED, str(exc), code=Code.NO_CURVE_ROWS, attempt=attempt)
    except TRANSIENT_ERRORS as exc:
        retry_in = run_retry_after_error(run, exc, attempt=attempt)
    except Exception as exc:  # the task's last line: the run fails with the error's name, and it is logged
        log.exception("scenario run failed", run_id=run_id)
        message = f"internal error ({type(exc).__name__}: {exc})"
        run_fail(run, Status.FAILED, message, code=Code.INTERNAL_ERROR, attempt=attempt)
    if retry_in is not None:
        run_send([str(run.pk)], countdown=retry_in)
    else:
        scenario_runs_dispatch(tenant=tenant)
    run.refresh_from_db()
    return run


def _succeed(run: ScenarioRun, tenant: Tenant, base: BaseCurves, table: pa.Table) -> None:
    """Stage the run's rows (no lock held), then group-commit: this thread commits every staged run of the
    tenant, or, when another thread is committing, hands the run over to it and returns at once. A lock
    not granted in time leaves the run staged: the next committer (a worker or the sweep) takes it along."""
    if not scenario_run_stage(run=run, tenant=tenant, base=base, table=table):
        return
    try:
        scenario_outputs_commit(
            tenant=tenant,
            lock_timeout=settings.AURUM_SCENARIO_COMMIT_LOCK_TIMEOUT_SECONDS,
            hand_over=True,
            # the committed runs' slots go to queued runs after each round, not after the last one
            after_round=lambda: scenario_runs_dispatch(tenant=tenant),
        )
    except LockTimeoutError:
        log.warning("scenario outputs left staged for the next group commit", run_id=str(run.pk))


@dataclass(frozen=True)
class Reproduction:
    run: ScenarioRun
    output_hash: str
    rows: int

    @property
    def identical(self) -> bool:
        return self.output_hash == self.run.output_hash


def scenario_run_reproduce(*, run: ScenarioRun, tenant: Tenant) -> Reproduction:
    """Recompute a succeeded run from its frozen inputs on its recorded curve snapshot (nothing is written)
    and hash the result: equal to ``run.output_hash`` when the run is reproducible."""
    if run.status != Status.SUCCEEDED:
        raise ConflictError("Only a succeeded run can be reproduced.", slug="run-not-succeeded")
    _, table = scenario_run_compute(run=run, tenant=tenant)
    return Reproduction(run=run, output_hash=output_content_hash(table), rows=table.num_rows)
