"""Scenario writes: create/update/archive/delete, run submission (idempotent), cancel, the dispatcher that
caps each tenant's concurrent runs at its plan, and the run itself (called by the Celery task).

Every function runs in the tenant's schema (the request's or the task's); ``tenant`` is passed for its
plan, datasets and lakehouse namespace.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pyarrow as pa
import structlog
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import User
from apps.scenarios.drivers import validate_assumptions, validation_summary
from apps.scenarios.drivers.base import Severity, ValidationResult, has_errors
from apps.scenarios.engine import (
    EngineOptions,
    RunCancelled,
    ScenarioValidationError,
    run_scenario,
    scenario_output_table,
)
from apps.scenarios.engine.rows import METRICS
from apps.scenarios.models import Scenario, ScenarioAssumption, ScenarioRun, ScenarioRunEvent
from apps.scenarios.output_hash import output_content_hash
from apps.scenarios.outputs import (
    committed_run_snapshots,
    output_rows_append,
    output_rows_stage,
    output_table_ensure,
    output_table_lock,
    scenario_outputs_delete,
    staged_output_delete,
    staged_output_files,
    staged_output_read,
)
from apps.scenarios.selectors import BaseCurvesError, run_base_curves
from aurum.events.publish import event_publish, event_publish_on_commit
from aurum.lakehouse.locks import advisory_xact_lock
from aurum.lakehouse.queries import DIMENSIONS
from aurum.lakehouse.tables import curve_observation_table
from aurum.tenancy.db import tenant_connection
from aurum.transient import TRANSIENT_ERRORS
from tenants.models import Tenant

log = structlog.get_logger(__name__)

CODE_VERSION = "aurum-scenarios-1"
MAX_NAME = 255
MAX_ASSUMPTIONS = 100
MAX_TAGS = 50
MAX_CURVE_KEYS = 500
MAX_BULK_RUNS = 100
MAX_PATHS = 100_000
DEFAULT_PATHS = 1000
IDEMPOTENCY_KEY_RE = re.compile(r"^[A-Za-z0-9_\-.:/]{1,255}$")
PROGRESS_EVERY_SECONDS = 0.5
CANCEL_CHECK_EVERY_SECONDS = 0.5


class ScenarioInvalidError(Exception):
    """The request is not valid: ``issues`` are the spec's results (severity, code, message, field_path…)."""

    def __init__(self, issues: Sequence[Mapping[str, Any]]) -> None:
        self.issues = [dict(issue) for issue in issues]
        errors = [issue for issue in self.issues if issue.get("severity", "error") == "error"]
        super().__init__("; ".join(f"{i['field_path']}: {i['message']}" for i in errors))


class ScenarioConflictError(Exception):
    """A duplicate name, an archived scenario asked to run, an idempotency key of another scenario: 409."""


class RunTimedOutError(Exception):
    pass


def _issue(code: str, message: str, field_path: str, suggestion: str | None = None) -> dict[str, Any]:
    return ValidationResult(Severity.ERROR, code, message, field_path, suggestion).as_dict()


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def scenario_unique_key(*, tenant: Tenant, name: str) -> str:
    """``{tenant}:{slug(name)}``: lowercase, every run of non-alphanumerics becomes ``-`` (spec 2.3)."""
    return f"{tenant.schema_name}:{_slug(name)}"


# --- scenarios -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CurveSelection:
    """The curves a scenario applies to: explicit keys, or a dimension filter; and the base as-of."""

    curve_keys: tuple[str, ...] = ()
    curve_filter: Mapping[str, str] = field(default_factory=dict)
    base_asof: date | None = None


def _validate_fields(
    *,
    name: str,
    assumptions: Sequence[Any],
    tags: Sequence[Any],
    selection: CurveSelection,
) -> list[dict[str, Any]]:
    issues: list[dict[str, Any]] = []
    if not name.strip() or len(name) > MAX_NAME:
        issues.append(_issue("INVALID_NAME", f"name must be 1-{MAX_NAME} characters", "name"))
    if len(assumptions) > MAX_ASSUMPTIONS:
        issues.append(_issue("TOO_MANY_ASSUMPTIONS", f"at most {MAX_ASSUMPTIONS} assumptions", "assumptions"))
    if len(tags) > MAX_TAGS or not all(isinstance(tag, str) for tag in tags):
        issues.append(_issue("INVALID_TAGS", f"at most {MAX_TAGS} tags, each a string", "tags"))
    if len(selection.curve_keys) > MAX_CURVE_KEYS:
        issues.append(_issue("TOO_MANY_CURVES", f"at most {MAX_CURVE_KEYS} curve keys", "curve_keys"))
    unknown = sorted(set(selection.curve_filter) - set(DIMENSIONS))
    if unknown:
        issues.append(
            _issue(
                "UNKNOWN_DIMENSION",
                f"unknown curve filter field(s): {', '.join(unknown)}",
                "curve_filter",
                f"one of: {', '.join(DIMENSIONS)}",
            )
        )
    if selection.curve_keys and selection.curve_filter:
        issues.append(_issue("AMBIGUOUS_CURVES", "give curve_keys or curve_filter, not both", "curve_filter"))
    return issues


def _assumption_issues(assumptions: Sequence[Any]) -> list[ValidationResult]:
    results = validate_assumptions(list(assumptions))
    if has_errors(results):
        raise ScenarioInvalidError([result.as_dict() for result in results])
    return results


def _assumptions_replace(scenario: Scenario, assumptions: Sequence[Mapping[str, Any]]) -> None:
    scenario.assumptions.all().delete()
    ScenarioAssumption.objects.bulk_create(
        [
            ScenarioAssumption(
                scenario=scenario,
                order=index,
                driver_type=node["driver_type"],
                name=str(node.get("name") or ""),
                payload=dict(node.get("payload") or {}),
                version=int(node.get("version") or 1),
            )
            for index, node in enumerate(assumptions)
        ]
    )


def _name_taken(name: str, exclude: Scenario | None = None) -> bool:
    others = Scenario.objects.filter(name__iexact=name)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    return others.exists()


def scenario_create(
    *,
    tenant: Tenant,
    name: str,
    actor: User | None,
    description: str = "",
    assumptions: Sequence[Mapping[str, Any]] = (),
    parameters: Mapping[str, Any] | None = None,
    tags: Sequence[str] = (),
    selection: CurveSelection | None = None,
) -> Scenario:
    """A new scenario (status created). Raises ScenarioInvalidError (driver and field issues) or
    ScenarioConflictError (a scenario of that name, ignoring case, exists)."""
    selection = selection or CurveSelection()
    issues = _validate_fields(name=name, assumptions=assumptions, tags=tags, selection=selection)
    if issues:
        raise ScenarioInvalidError(issues)
    _assumption_issues(assumptions)
    if _name_taken(name):
        raise ScenarioConflictError(f"A scenario named '{name}' already exists.")
    try:
        with transaction.atomic():
            scenario = Scenario.objects.create(
                name=name,
                description=description,
                parameters=dict(parameters or {}),
                tags=list(tags),
                unique_key=scenario_unique_key(tenant=tenant, name=name),
                curve_keys=list(selection.curve_keys),
                curve_filter=dict(selection.curve_filter),
                base_asof=selection.base_asof,
                created_by=actor,
            )
            _assumptions_replace(scenario, assumptions)
    except IntegrityError as exc:  # a concurrent create of the same name
        raise ScenarioConflictError(f"A scenario named '{name}' already exists.") from exc
    return scenario


_UNSET: Any = object()


def scenario_update(
    *,
    scenario: Scenario,
    tenant: Tenant,
    name: str = _UNSET,
    description: str = _UNSET,
    status: str = _UNSET,
    assumptions: Sequence[Mapping[str, Any]] = _UNSET,
    parameters: Mapping[str, Any] = _UNSET,
    tags: Sequence[str] = _UNSET,
    selection: CurveSelection = _UNSET,
) -> Scenario:
    """Change the given fields; any change bumps ``version`` (so later runs hash differently)."""
    new_name = scenario.name if name is _UNSET else name
    new_assumptions = (
        [a.as_node() for a in scenario.assumptions.all()] if assumptions is _UNSET else list(assumptions)
    )
    new_tags = scenario.tags if tags is _UNSET else list(tags)
    new_selection = (
        CurveSelection(tuple(scenario.curve_keys), dict(scenario.curve_filter), scenario.base_asof)
        if selection is _UNSET
        else selection
    )
    issues = _validate_fields(
        name=new_name, assumptions=new_assumptions, tags=new_tags, selection=new_selection
    )
    if status is not _UNSET and status not in Scenario.Status.values:
        issues.append(_issue("INVALID_STATUS", f"status must be one of {Scenario.Status.values}", "status"))
    if issues:
        raise ScenarioInvalidError(issues)
    if assumptions is not _UNSET:
        _assumption_issues(new_assumptions)
    if _name_taken(new_name, exclude=scenario):
        raise ScenarioConflictError(f"A scenario named '{new_name}' already exists.")
    with transaction.atomic():
        scenario.name = new_name
        scenario.unique_key = scenario_unique_key(tenant=tenant, name=new_name)
        if description is not _UNSET:
            scenario.description = description
        if status is not _UNSET:
            scenario.status = status
            scenario.archived_at = timezone.now() if status == Scenario.Status.ARCHIVED else None
        if parameters is not _UNSET:
            scenario.parameters = dict(parameters)
        scenario.tags = new_tags
        scenario.curve_keys = list(new_selection.curve_keys)
        scenario.curve_filter = dict(new_selection.curve_filter)
        scenario.base_asof = new_selection.base_asof
        scenario.version += 1
        scenario.save()
        if assumptions is not _UNSET:
            _assumptions_replace(scenario, new_assumptions)
    return scenario


def scenario_delete(*, scenario: Scenario, tenant: Tenant) -> None:
    """Delete a scenario, its runs (unfinished ones are cancelled first) and its output rows."""
    scenario_id = str(scenario.pk)
    for run in scenario.runs.exclude(status__in=ScenarioRun.FINISHED):
        scenario_run_cancel(run=run, tenant=tenant)
    with transaction.atomic():
        scenario.delete()
        transaction.on_commit(lambda: scenario_outputs_delete(tenant.schema_name, scenario_id))


# --- runs: submission ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunOptions:
    """``ScenarioRunOptions`` of the original API. ``parameters`` may hold n_paths (Monte Carlo paths, default
    1000, at most 100,000) and metrics (default mid, uplift, policy_uplift)."""

    priority: str = ScenarioRun.Priority.NORMAL
    seed: int | None = None
    code_version: str | None = None
    timeout_minutes: int = 60
    max_retries: int = 3
    max_memory_mb: int = 1024
    parameters: Mapping[str, Any] = field(default_factory=dict)
    environment: Mapping[str, str] = field(default_factory=dict)
    idempotency_key: str | None = None


@dataclass(frozen=True)
class RunSubmitted:
    run: ScenarioRun
    created: bool  # False: the same inputs or idempotency key returned this existing run


def _run_parameter_issues(options: RunOptions, index: str = "") -> list[dict[str, Any]]:
    issues: list[dict[str, Any]] = []
    n_paths = options.parameters.get("n_paths", DEFAULT_PATHS)
    if not isinstance(n_paths, int) or isinstance(n_paths, bool) or not 1 <= n_paths <= MAX_PATHS:
        issues.append(
            _issue(
                "INVALID_N_PATHS", f"n_paths must be an integer 1-{MAX_PATHS}", f"{index}parameters.n_paths"
            )
        )
    metrics = options.parameters.get("metrics", list(METRICS))
    if not isinstance(metrics, list) or not metrics or not set(metrics) <= set(METRICS):
        issues.append(
            _issue(
                "INVALID_METRICS",
                f"metrics must be a non-empty subset of {list(METRICS)}",
                f"{index}parameters.metrics",
            )
        )
    if options.priority not in ScenarioRun.Priority.values:
        issues.append(
            _issue("INVALID_PRIORITY", "priority must be low, normal, high or critical", f"{index}priority")
        )
    key = options.idempotency_key
    if key is not None and not IDEMPOTENCY_KEY_RE.match(key):
        issues.append(
            _issue(
                "INVALID_IDEMPOTENCY_KEY",
                "idempotency_key: 1-255 characters of A-Z a-z 0-9 _ - . : /",
                f"{index}idempotency_key",
            )
        )
    return issues


def _current_curve_snapshot() -> int | None:
    snapshot = curve_observation_table().current_snapshot()
    return snapshot.snapshot_id if snapshot is not None else None


def _scenario_inputs(scenario: Scenario) -> dict[str, Any]:
    """What a run computes from, frozen at submission (a later edit of the scenario does not change it)."""
    return {
        "scenario_version": scenario.version,
        "unique_key": scenario.unique_key,
        "assumptions": [a.as_node() for a in scenario.assumptions.all()],
        "scenario_parameters": scenario.parameters,
        "curve_keys": list(scenario.curve_keys),
        "curve_filter": dict(scenario.curve_filter),
        "base_asof": scenario.base_asof.isoformat() if scenario.base_asof else None,
    }


def run_input_hash(
    *, tenant: Tenant, scenario: Scenario, inputs: Mapping[str, Any], fingerprint: Mapping[str, Any]
) -> str:
    """SHA-256 of the canonical (key-sorted) JSON of every input that can change a run's outputs."""
    document = {"tenant": tenant.schema_name, "scenario_id": str(scenario.pk), **inputs, **fingerprint}
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _event(run: ScenarioRun, event_type: str, **data: Any) -> None:
    """The run's audit row and its domain event (after commit) on the tenant's stream."""
    ScenarioRunEvent.objects.create(run=run, event_type=event_type, data=data)
    event_publish_on_commit(
        schema_name=tenant_connection().schema_name,
        event_type=f"scenario.run.{event_type}",
        payload=run_event_payload(run) | data,
    )


def run_event_payload(run: ScenarioRun) -> dict[str, Any]:
    return {
        "run_id": str(run.pk),
        "scenario_id": str(run.scenario_id),
        "status": run.status,
        "priority": run.priority,
        "progress_percent": run.progress_percent,
        "output_rows": run.output_rows,
        "error_message": run.error_message or None,
    }


def _existing_for_key(scenario: Scenario, key: str | None) -> ScenarioRun | None:
    if key is None:
        return None
    existing = ScenarioRun.objects.filter(idempotency_key=key).first()
    if existing is not None and existing.scenario_id != scenario.pk:
        raise ScenarioConflictError(f"Idempotency key '{key}' was used for another scenario's run.")
    return existing


def _submit_one(
    *,
    tenant: Tenant,
    scenario: Scenario,
    options: RunOptions,
    actor: User | None,
    inputs: Mapping[str, Any],
    snapshot_id: int | None,
) -> RunSubmitted:
    existing = _existing_for_key(scenario, options.idempotency_key)
    if existing is not None:
        return RunSubmitted(existing, created=False)
    seed = 0 if options.seed is None else int(options.seed)
    code_version = options.code_version or CODE_VERSION
    fingerprint = {
        "curve_snapshot_id": snapshot_id,
        "seed": seed,
        "code_version": code_version,
        "parameters": dict(options.parameters),
        "environment": dict(options.environment),
    }
    input_hash = run_input_hash(tenant=tenant, scenario=scenario, inputs=inputs, fingerprint=fingerprint)
    live = ScenarioRun.objects.filter(
        scenario=scenario, input_hash=input_hash, status__in=ScenarioRun.REUSABLE
    )
    if (same := live.first()) is not None:
        return RunSubmitted(same, created=False)
    try:
        with transaction.atomic():
            run = ScenarioRun.objects.create(
                scenario=scenario,
                priority=options.priority,
                priority_rank=ScenarioRun.PRIORITY_RANK[ScenarioRun.Priority(options.priority)],
                input_hash=input_hash,
                idempotency_key=options.idempotency_key or "",
                seed=seed,
                code_version=code_version,
                options={
                    "inputs": dict(inputs),
                    "parameters": dict(options.parameters),
                    "environment": dict(options.environment),
                    "max_memory_mb": options.max_memory_mb,
                },
                timeout_minutes=options.timeout_minutes,
                max_retries=options.max_retries,
                requested_by=actor,
                queued_at=timezone.now(),
                base_asof_requested=scenario.base_asof,
                curve_snapshot_id=snapshot_id,
            )
            _event(run, "queued")
    except IntegrityError:  # a concurrent submit of the same inputs or key won
        again = _existing_for_key(scenario, options.idempotency_key) or live.first()
        if again is None:
            raise
        return RunSubmitted(again, created=False)
    return RunSubmitted(run, created=True)


def _runnable(scenario: Scenario) -> None:
    if scenario.status == Scenario.Status.ARCHIVED:
        raise ScenarioConflictError("An archived scenario cannot be run.")
    if not scenario.curve_keys and not scenario.curve_filter:
        raise ScenarioInvalidError(
            [
                _issue(
                    "NO_CURVES",
                    "the scenario names no curves",
                    "curve_keys",
                    'set curve_keys or curve_filter (e.g. {"iso": "EU", "product": "Spark Spread"})',
                )
            ]
        )
    _assumption_issues([a.as_node() for a in scenario.assumptions.all()])


def scenario_run_submit(
    *, tenant: Tenant, scenario: Scenario, options: RunOptions, actor: User | None
) -> RunSubmitted:
    """Queue a run, or return the existing run with the same inputs (input hash) or idempotency key.

    The hash covers the scenario's assumptions, parameters, curve selection and base as-of, the curve
    table's current Iceberg snapshot (what the run will read), the seed, code version, run parameters and
    environment. A failed, cancelled or timed-out run is not reused: submitting again makes a new run.
    """
    issues = _run_parameter_issues(options)
    if issues:
        raise ScenarioInvalidError(issues)
    _runnable(scenario)
    submitted = _submit_one(
        tenant=tenant,
        scenario=scenario,
        options=options,
        actor=actor,
        inputs=_scenario_inputs(scenario),
        snapshot_id=_current_curve_snapshot(),
    )
    if submitted.created:
        transaction.on_commit(lambda: scenario_runs_dispatch(tenant=tenant))
    return submitted


@dataclass(frozen=True)
class BulkResult:
    data: list[dict[str, Any]]
    duplicates: list[dict[str, Any]]
    meta: dict[str, int]


def scenario_runs_submit_bulk(
    *,
    tenant: Tenant,
    scenario: Scenario,
    runs: Sequence[RunOptions],
    actor: User | None,
    idempotency_key: str | None = None,
) -> BulkResult:
    """Up to 100 runs in one call. Each item is created, or reported in ``duplicates`` with the run that has
    its inputs or key; an item whose key belongs to another scenario is reported with an ``error``.
    A bulk ``idempotency_key`` gives item i without a key the key ``{bulk key}:{i}``."""
    if not 1 <= len(runs) <= MAX_BULK_RUNS:
        raise ScenarioInvalidError([_issue("INVALID_BULK_SIZE", f"1-{MAX_BULK_RUNS} runs per call", "runs")])
    if idempotency_key is not None and not IDEMPOTENCY_KEY_RE.match(idempotency_key):
        raise ScenarioInvalidError(
            [_issue("INVALID_IDEMPOTENCY_KEY", "invalid idempotency_key", "idempotency_key")]
        )
    items = [
        options
        if options.idempotency_key or idempotency_key is None
        else RunOptions(**{**options.__dict__, "idempotency_key": f"{idempotency_key}:{index}"})
        for index, options in enumerate(runs)
    ]
    issues = [
        issue
        for index, options in enumerate(items)
        for issue in _run_parameter_issues(options, f"runs[{index}].")
    ]
    if issues:
        raise ScenarioInvalidError(issues)
    _runnable(scenario)
    inputs, snapshot_id = _scenario_inputs(scenario), _current_curve_snapshot()
    data: list[dict[str, Any]] = []
    duplicates: list[dict[str, Any]] = []
    created = failed = 0
    for index, options in enumerate(items):
        try:
            submitted = _submit_one(
                tenant=tenant,
                scenario=scenario,
                options=options,
                actor=actor,
                inputs=inputs,
                snapshot_id=snapshot_id,
            )
        except ScenarioConflictError as exc:
            failed += 1
            data.append(
                {
                    "index": index,
                    "idempotency_key": options.idempotency_key,
                    "run_id": None,
                    "status": "failed",
                    "error": str(exc),
                }
            )
            continue
        run = submitted.run
        if submitted.created:
            created += 1
            data.append(
                {
                    "index": index,
                    "idempotency_key": options.idempotency_key,
                    "run_id": str(run.pk),
                    "status": run.status,
                    "error": None,
                }
            )
        else:
            duplicates.append(
                {
                    "index": index,
                    "idempotency_key": options.idempotency_key,
                    "existing_run_id": str(run.pk),
                    "existing_status": run.status,
                    "created_at": run.created_at.isoformat(),
                }
            )
    if created:
        transaction.on_commit(lambda: scenario_runs_dispatch(tenant=tenant))
    meta = {
        "total_runs": len(items),
        "successful_runs": created,
        "duplicate_runs": len(duplicates),
        "failed_runs": failed,
    }
    return BulkResult(data=data, duplicates=duplicates, meta=meta)


# --- runs: cancel, dispatch, sweep ---------------------------------------------------------------------


def _unstage(run: ScenarioRun) -> None:
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


def _finish(run: ScenarioRun, status: str, *, error: str = "", fields: Sequence[str] = ()) -> None:
    """End the run (``fields``: other fields set by the caller, saved in the same UPDATE); any staged rows
    are dropped (a succeeded run's are in Iceberg, any other's are never committed)."""
    now = timezone.now()
    run.status = status
    run.completed_at = now
    if run.started_at is not None:
        run.duration_seconds = (now - run.started_at).total_seconds()
    if status == ScenarioRun.Status.CANCELLED:
        run.cancelled_at = now
    run.error_message = error[:4000]
    _unstage(run)
    run.save(
        update_fields=[
            "status",
            "completed_at",
            "duration_seconds",
            "cancelled_at",
            "error_message",
            "progress_percent",
            "output_staged_uri",
            *fields,
        ]
    )


def scenario_run_cancel(*, run: ScenarioRun, tenant: Tenant) -> ScenarioRun:
    """Cancel a queued or running run; a finished run is returned unchanged (idempotent).

    A running computation sees the cancellation between two Monte Carlo chunks and stops without writing.
    """
    with transaction.atomic():
        locked = ScenarioRun.objects.select_for_update().get(pk=run.pk)
        if locked.is_finished:
            return locked
        _finish(locked, ScenarioRun.Status.CANCELLED)
        _event(locked, "cancelled")
        transaction.on_commit(lambda: scenario_runs_dispatch(tenant=tenant))
    return locked


def _send(run_ids: Sequence[str], countdown: float | None = None) -> None:
    from apps.scenarios.tasks import scenario_run_execute_task

    for run_id in run_ids:
        scenario_run_execute_task.apply_async((run_id,), countdown=countdown)


def scenario_runs_dispatch(*, tenant: Tenant) -> list[str]:
    """Hand queued runs to workers, highest priority then oldest first, while the tenant has fewer than its
    plan's ``concurrent_scenario_runs`` runs dispatched or running. The excess stays queued; this is called
    again on submit, at every run end and by the beat sweep, so it starts when a slot frees."""
    cap = Tenant.objects.select_related("plan").get(pk=tenant.pk).plan.concurrent_scenario_runs
    with transaction.atomic():
        # one dispatcher per tenant at a time: the count stays true
        advisory_xact_lock(f"scenario-dispatch:{tenant.schema_name}")
        busy = ScenarioRun.objects.filter(
            Q(status=ScenarioRun.Status.RUNNING)
            | Q(status=ScenarioRun.Status.QUEUED, dispatched_at__isnull=False)
        ).count()
        free = cap - busy
        if free <= 0:
            return []
        picked = list(
            ScenarioRun.objects.select_for_update(skip_locked=True)
            .filter(status=ScenarioRun.Status.QUEUED, dispatched_at__isnull=True)
            .order_by("priority_rank", "queued_at", "id")
            .values_list("pk", flat=True)[:free]
        )
        if not picked:
            return []
        ScenarioRun.objects.filter(pk__in=picked).update(dispatched_at=timezone.now())
        run_ids = [str(pk) for pk in picked]
        transaction.on_commit(lambda: _send(run_ids))
    return run_ids


STALE_DISPATCH_SECONDS = 120
TIMEOUT_GRACE_SECONDS = 30


STALE_STAGING_SECONDS = 600


def scenario_runs_sweep(*, tenant: Tenant) -> dict[str, int]:
    """Housekeeping for one tenant (beat): staged runs a dead worker left behind are committed, staging files
    no run needs are deleted, runs whose worker died past their timeout become timed_out, dispatched runs no
    worker picked up are sent again, then the dispatcher fills free slots."""
    try:
        committed = len(scenario_outputs_commit(tenant=tenant))
    except TRANSIENT_ERRORS:
        log.warning("staged scenario outputs not committed by the sweep", exc_info=True)
        committed = 0
    cleaned = _staging_clean(tenant)
    now = timezone.now()
    timed_out = 0
    for run in ScenarioRun.objects.filter(status=ScenarioRun.Status.RUNNING, started_at__isnull=False):
        assert run.started_at is not None
        if (now - run.started_at).total_seconds() > run.timeout_minutes * 60 + TIMEOUT_GRACE_SECONDS:
            if _fail(run, ScenarioRun.Status.TIMED_OUT, "no result within the run's timeout"):
                timed_out += 1
    stale = [
        str(pk)
        for pk in ScenarioRun.objects.filter(
            status=ScenarioRun.Status.QUEUED,
            dispatched_at__lt=now - timedelta(seconds=STALE_DISPATCH_SECONDS),
        ).values_list("pk", flat=True)
    ]
    _send(stale)
    dispatched = scenario_runs_dispatch(tenant=tenant)
    return {
        "committed": committed,
        "staging_cleaned": cleaned,
        "timed_out": timed_out,
        "resent": len(stale),
        "dispatched": len(dispatched),
    }


def _staging_clean(tenant: Tenant) -> int:
    """Delete staging files older than STALE_STAGING_SECONDS that no running staged run points at (left by a
    worker that died after the commit but before deleting them, or while staging)."""
    live = set(
        ScenarioRun.objects.filter(status=ScenarioRun.Status.RUNNING)
        .exclude(output_staged_uri="")
        .values_list("output_staged_uri", flat=True)
    )
    cutoff = timezone.now() - timedelta(seconds=STALE_STAGING_SECONDS)
    cleaned = 0
    for uri, modified in staged_output_files(tenant.schema_name):
        if uri not in live and modified is not None and modified < cutoff:
            staged_output_delete(uri)
            cleaned += 1
    return cleaned


# --- runs: execution (the worker) ----------------------------------------------------------------------


def _start(run_id: str) -> ScenarioRun | None:
    with transaction.atomic():
        run = ScenarioRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != ScenarioRun.Status.QUEUED:
            return None  # cancelled meanwhile, or a duplicate delivery of a started run
        run.status = ScenarioRun.Status.RUNNING
        run.started_at = timezone.now()
        run.progress_percent = 0.0
        run.error_message = ""
        run.save(update_fields=["status", "started_at", "progress_percent", "error_message"])
        _event(run, "started", attempt=run.retry_count + 1)
    return run


class _Watch:
    """The engine's cancel and progress hooks: a cheap status query at most every 0.5 s, and the timeout."""

    def __init__(self, run: ScenarioRun, schema_name: str) -> None:
        self.run = run
        self.schema_name = schema_name
        self.started = time.monotonic()
        self.deadline = self.started + run.timeout_minutes * 60
        self.last_check = 0.0
        self.last_progress = 0.0

    def should_cancel(self) -> bool:
        now = time.monotonic()
        if now > self.deadline:
            raise RunTimedOutError(f"no result within {self.run.timeout_minutes} minute(s)")
        if now - self.last_check < CANCEL_CHECK_EVERY_SECONDS:
            return False
        self.last_check = now
        status = ScenarioRun.objects.filter(pk=self.run.pk).values_list("status", flat=True).first()
        return status != ScenarioRun.Status.RUNNING

    def on_progress(self, fraction: float) -> None:
        now = time.monotonic()
        if fraction >= 1.0 or now - self.last_progress < PROGRESS_EVERY_SECONDS:
            return  # the end is announced by the state change (succeeded, 100 %), not by a progress event
        self.last_progress = now
        percent = round(min(fraction, 1.0) * 95.0, 1)  # the last 5 % are the write
        ScenarioRun.objects.filter(pk=self.run.pk, status=ScenarioRun.Status.RUNNING).update(
            progress_percent=percent
        )
        self.run.progress_percent = percent
        event_publish(
            schema_name=self.schema_name,
            event_type="scenario.run.progress",
            payload=run_event_payload(self.run),
        )


def scenario_run_compute(*, run: ScenarioRun, tenant: Tenant, watch: _Watch | None = None) -> Any:
    """The run's output rows (an Arrow table), computed from its frozen inputs on its recorded snapshot."""
    base = run_base_curves(run=run, tenant=tenant)
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
    timed_out; a transient error (database, Iceberg commit, connection) re-queues it up to max_retries times
    with backoff; any other error fails it. Returns the run, or None when there was nothing to start.
    """
    run = _start(run_id)
    if run is None:
        return None
    watch = _Watch(run, tenant.schema_name)
    retry_in: float | None = None
    try:
        base, table = scenario_run_compute(run=run, tenant=tenant, watch=watch)
        _succeed(run, tenant, base, table)
    except RunCancelled:
        pass  # scenario_run_cancel already recorded it
    except RunTimedOutError as exc:
        _fail(run, ScenarioRun.Status.TIMED_OUT, str(exc))
    except (ScenarioValidationError, BaseCurvesError) as exc:
        _fail(run, ScenarioRun.Status.FAILED, str(exc))
    except TRANSIENT_ERRORS as exc:
        retry_in = _retry_or_fail(run, exc)
    except Exception as exc:
        log.exception("scenario run failed", run_id=run_id)
        _fail(run, ScenarioRun.Status.FAILED, f"internal error ({type(exc).__name__}: {exc})")
    if retry_in is not None:
        _send([str(run.pk)], countdown=retry_in)
    else:
        scenario_runs_dispatch(tenant=tenant)
    run.refresh_from_db()
    return run


def _succeed(run: ScenarioRun, tenant: Tenant, base: Any, table: Any) -> None:
    """Stage the run's rows (no lock held), then group-commit: this thread, or one already committing,
    appends them together with every other staged run of the tenant."""
    if scenario_run_stage(run=run, tenant=tenant, base=base, table=table):
        scenario_outputs_commit(tenant=tenant, run_id=str(run.pk))


def scenario_run_stage(*, run: ScenarioRun, tenant: Tenant, base: Any, table: pa.Table) -> bool:
    """Write a computed run's rows to its staging file and record it on the run (``output_staged_uri``);
    False (and no file) when the run was cancelled meanwhile. No lock is held while writing."""
    uri = output_rows_stage(
        tenant.schema_name,
        str(run.pk),
        table,
        output_hash=output_content_hash(table),
        base_asof=base.asof,
        curve_units=base.units,
    )
    with transaction.atomic():
        locked = ScenarioRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != ScenarioRun.Status.RUNNING:
            staged_output_delete(uri)  # cancelled while computing: write nothing
            return False
        locked.output_staged_uri = uri
        locked.save(update_fields=["output_staged_uri"])
    run.output_staged_uri = uri
    return True


COMMIT_LOOKBACK = timedelta(minutes=5)  # clock skew between the writer of a snapshot and the database


def scenario_outputs_commit(*, tenant: Tenant, run_id: str | None = None) -> list[str]:
    """The group commit: under the tenant's output-table lock, append every staged, still-running run's rows
    in ONE Iceberg snapshot and finish those runs (succeeded); return their ids.

    With ``run_id`` (a worker, after staging that run) nothing is done when that run was already committed
    by another thread meanwhile; without it (the sweep) whatever is staged is committed. A run whose id a
    snapshot already lists (a commit whose database transaction was lost) is finished on that snapshot
    without appending again; a run whose staged file is gone fails.
    """
    schema = tenant.schema_name
    with transaction.atomic():
        output_table_lock(schema)
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
            output = staged_output_read(run.output_staged_uri)
            if output is None:
                _finish(run, ScenarioRun.Status.FAILED, error="staged outputs lost before their commit")
                _event(run, "failed", error="staged outputs lost before their commit")
            else:
                outputs[str(run.pk)] = output
        to_append = [rid for rid in outputs if rid not in already]
        snapshot_id: int | None = None
        if to_append:
            rows = pa.concat_tables([outputs[rid].rows for rid in to_append])
            snapshot_id = output_rows_append(table, rows, run_ids=to_append)
        for run in staged:
            output = outputs.get(str(run.pk))
            if output is None:
                continue
            run.output_snapshot_id = already.get(str(run.pk), snapshot_id)
            run.output_rows = output.rows.num_rows
            run.output_hash = output.output_hash
            run.base_asof = output.base_asof
            run.curve_units = output.curve_units
            run.progress_percent = 100.0
            _finish(
                run,
                ScenarioRun.Status.SUCCEEDED,
                fields=["output_snapshot_id", "output_rows", "output_hash", "base_asof", "curve_units"],
            )
            _event(run, "succeeded", duration_seconds=run.duration_seconds)
    if len(outputs) > 1 or already:
        log.info("scenario outputs group-committed", runs=len(outputs), appended=len(to_append))
    return list(outputs)


def _fail(run: ScenarioRun, status: str, message: str) -> bool:
    """End a running run with ``status`` (failed, timed_out); False when it was no longer running."""
    with transaction.atomic():
        locked = ScenarioRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != ScenarioRun.Status.RUNNING:
            return False
        _finish(locked, status, error=message)
        _event(locked, str(status), error=message[:500])
        return True


def _retry_or_fail(run: ScenarioRun, exc: BaseException) -> float | None:
    """Re-queue after a transient error (keeping its slot; 2^n s backoff), or fail when out of retries."""
    message = f"{type(exc).__name__}: {exc}"
    with transaction.atomic():
        locked = ScenarioRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != ScenarioRun.Status.RUNNING:
            return None
        if locked.retry_count >= locked.max_retries:
            _finish(
                locked, ScenarioRun.Status.FAILED, error=f"{message} (after {locked.retry_count} retries)"
            )
            _event(locked, "failed", error=message[:500])
            return None
        locked.retry_count += 1
        _unstage(locked)
        locked.status = ScenarioRun.Status.QUEUED
        locked.started_at = None
        locked.progress_percent = 0.0
        locked.error_message = message[:4000]
        locked.dispatched_at = timezone.now()
        locked.save(
            update_fields=[
                "retry_count",
                "status",
                "started_at",
                "progress_percent",
                "error_message",
                "dispatched_at",
                "output_staged_uri",
            ]
        )
        _event(locked, "retry", attempt=locked.retry_count, error=message[:500])
        return float(2**locked.retry_count)


# --- reproducibility -----------------------------------------------------------------------------------


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
    if run.status != ScenarioRun.Status.SUCCEEDED:
        raise ScenarioConflictError("Only a succeeded run can be reproduced.")
    _, table = scenario_run_compute(run=run, tenant=tenant)
    return Reproduction(run=run, output_hash=output_content_hash(table), rows=table.num_rows)


def validation_report(assumptions: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The spec's validation result for a scenario's assumptions (errors, warnings and info)."""
    return validation_summary(validate_assumptions(list(assumptions)))
