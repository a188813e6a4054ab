"""Run submission (one run or up to 100 at once, idempotent, within the run budget) and cancellation.

What makes two submissions the same run (input hash, idempotency key and request fingerprint) is in
``run_identity``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from apps.accounts.models import User
from apps.audit.services import audit_append_many
from apps.scenarios.models import Scenario, ScenarioRun
from apps.scenarios.selection import selection_size
from apps.scenarios.services.budget import RunSize, run_budget_check, run_size
from apps.scenarios.services.dispatch import scenario_runs_dispatch
from apps.scenarios.services.inputs import (
    IDEMPOTENCY_KEY_RE,
    MAX_BULK_RUNS,
    RunOptions,
    assumptions_check,
    invalid,
    issue,
    run_option_issues,
)
from apps.scenarios.services.lifecycle import run_event_record, run_finish, runs_event_record
from apps.scenarios.services.run_identity import (
    KEY_REUSED,
    curve_snapshot_current,
    run_for_key,
    run_key_owner_check,
    run_new,
    run_request_fingerprint,
    run_submit_record,
    scenario_inputs_frozen,
)
from apps.usage.models import Metric
from apps.usage.services import SYSTEM_CREDENTIAL, usage_take
from aurum.errors import ConflictError, UnprocessableError
from tenants.models import Tenant


@dataclass(frozen=True)
class RunSubmitted:
    run: ScenarioRun
    created: bool  # False: the same inputs or idempotency key returned this existing run


def _submit_one(
    *,
    tenant: Tenant,
    scenario: Scenario,
    options: RunOptions,
    actor: User | None,
    inputs: Mapping[str, Any],
    snapshot_id: int | None,
) -> RunSubmitted:
    fingerprint = run_request_fingerprint(scenario=scenario, options=options)
    existing = run_for_key(scenario, options.idempotency_key, fingerprint)
    if existing is not None:
        return RunSubmitted(existing, created=False)
    run = run_new(
        tenant=tenant,
        scenario=scenario,
        options=options,
        actor=actor,
        inputs=inputs,
        snapshot_id=snapshot_id,
        fingerprint=fingerprint,
    )
    live = ScenarioRun.objects.filter(
        scenario=scenario, input_hash=run.input_hash, status__in=ScenarioRun.REUSABLE
    )
    if (same := live.first()) is not None:
        return RunSubmitted(same, created=False)
    try:
        with transaction.atomic():
            run.save(force_insert=True)
            run_event_record(run, "queued")
            audit_append_many([run_submit_record(run, scenario)])
    except IntegrityError:  # a concurrent submit of the same inputs or key won
        again = run_for_key(scenario, options.idempotency_key, fingerprint) or live.first()
        if again is None:
            raise
        return RunSubmitted(again, created=False)
    return RunSubmitted(run, created=True)


def scenario_runnable(scenario: Scenario) -> None:
    """409 for an archived scenario; 400 for one without curves or with invalid assumptions."""
    if scenario.status == Scenario.Status.ARCHIVED:
        raise ConflictError("An archived scenario cannot be run.", slug="scenario-archived")
    if not scenario.curve_keys and not scenario.curve_filter:
        raise invalid(
            [
                issue(
                    "NO_CURVES",
                    "the scenario names no curves",
                    "curve_keys",
                    'set curve_keys or curve_filter (e.g. {"iso": "EU", "product": "Spark Spread"})',
                )
            ]
        )
    assumptions_check([a.as_node() for a in scenario.assumptions.all()])


def _sizes(
    tenant: Tenant, inputs: Mapping[str, Any], items: Sequence[tuple[int | None, RunOptions]]
) -> list[tuple[int | None, RunSize]]:
    selection = selection_size(
        tenant=tenant, curve_keys=tuple(inputs["curve_keys"]), curve_filter=inputs["curve_filter"]
    )
    return [
        (index, run_size(assumptions=inputs["assumptions"], selection=selection, options=options))
        for index, options in items
    ]


def _runs_reserve(tenant: Tenant, credential: str, count: int) -> None:
    """Count ``count`` runs against the plan's monthly scenario_runs quota before creating them: 429
    (RateLimitedError) when they do not fit. Runs not created after all are given back."""
    if count > 0:
        usage_take(tenant=tenant, credential=credential, metric=Metric.SCENARIO_RUNS, amount=count)


def _runs_release(tenant: Tenant, credential: str, count: int) -> None:
    if count > 0:
        usage_take(
            tenant=tenant, credential=credential, metric=Metric.SCENARIO_RUNS, amount=-count, mode="none"
        )


def scenario_run_submit(
    *,
    tenant: Tenant,
    scenario: Scenario,
    options: RunOptions,
    actor: User | None,
    credential: str = SYSTEM_CREDENTIAL,
) -> RunSubmitted:
    """Queue a run, or return the existing run with the same inputs (input hash) or idempotency key.

    The hash covers the scenario's assumptions, parameters, curve selection and base as-of, the curve
    table's current Iceberg snapshot (what the run will read), the seed, code version, run parameters and
    environment. A failed, cancelled or timed-out run is not reused: submitting again makes a new run.
    Raises InvalidInputError (400), ConflictError (409: archived scenario, key of another scenario),
    UnprocessableError (422: the key used with other parameters, the run over the budget) or
    RateLimitedError (429: the plan's monthly scenario_runs quota is used up; ``credential`` is counted).
    """
    issues = run_option_issues(options)
    if issues:
        raise invalid(issues)
    scenario_runnable(scenario)
    fingerprint = run_request_fingerprint(scenario=scenario, options=options)
    existing = run_for_key(scenario, options.idempotency_key, fingerprint)
    if existing is not None:
        return RunSubmitted(existing, created=False)
    inputs = scenario_inputs_frozen(scenario)
    run_budget_check(_sizes(tenant, inputs, [(None, options)]))
    _runs_reserve(tenant, credential, 1)
    created = False
    try:
        submitted = _submit_one(
            tenant=tenant,
            scenario=scenario,
            options=options,
            actor=actor,
            inputs=inputs,
            snapshot_id=curve_snapshot_current(),
        )
        created = submitted.created
    finally:
        if not created:
            _runs_release(tenant, credential, 1)
    if submitted.created:
        transaction.on_commit(lambda: scenario_runs_dispatch(tenant=tenant))
    return submitted


@dataclass(frozen=True)
class BulkResult:
    data: list[dict[str, Any]]
    duplicates: list[dict[str, Any]]
    meta: dict[str, int]


def _bulk_items(runs: Sequence[RunOptions], idempotency_key: str | None) -> list[RunOptions]:
    """Item i without a key gets ``{bulk key}:{i}`` when the call has a key."""
    return [
        options
        if options.idempotency_key or idempotency_key is None
        else RunOptions(**{**options.__dict__, "idempotency_key": f"{idempotency_key}:{index}"})
        for index, options in enumerate(runs)
    ]


def _bulk_keys_check(scenario: Scenario, items: Sequence[RunOptions]) -> set[int]:
    """422 when any item's key was used with another request (nothing is created then); the indices of the
    items whose key already made this very run (they are duplicates, not new runs)."""
    keyed: dict[str, tuple[int, str]] = {}  # key -> (its first item, that item's fingerprint)
    reused: list[dict[str, Any]] = []
    for index, options in enumerate(items):
        if options.idempotency_key is None:
            continue
        fingerprint = run_request_fingerprint(scenario=scenario, options=options)
        first = keyed.setdefault(options.idempotency_key, (index, fingerprint))
        if first[1] != fingerprint:  # one key, two different items in this very call
            reused.append(
                {"index": index, "idempotency_key": options.idempotency_key, "existing_run_id": None}
            )
    known: set[int] = set()
    for run in ScenarioRun.objects.filter(idempotency_key__in=list(keyed), scenario=scenario):
        index, fingerprint = keyed[run.idempotency_key]
        if run.idempotency_fingerprint and run.idempotency_fingerprint != fingerprint:
            reused.append(
                {"index": index, "idempotency_key": run.idempotency_key, "existing_run_id": str(run.pk)}
            )
        else:
            known.add(index)
    if reused:
        raise UnprocessableError(
            f"{len(reused)} idempotency key(s) of this call were used with other parameters; use new keys "
            "for new requests.",
            slug=KEY_REUSED,
            runs=sorted(reused, key=lambda item: item["index"]),
        )
    return known


def scenario_runs_submit_bulk(
    *,
    tenant: Tenant,
    scenario: Scenario,
    runs: Sequence[RunOptions],
    actor: User | None,
    idempotency_key: str | None = None,
    credential: str = SYSTEM_CREDENTIAL,
) -> BulkResult:
    """Up to 100 runs in one call. Each item is created, or reported in ``duplicates`` with the run that has
    its inputs or key; an item whose key belongs to another scenario is reported with an ``error``.
    A bulk ``idempotency_key`` gives item i without a key the key ``{bulk key}:{i}``. The call is refused as
    a whole (nothing created) when an item is invalid (400), over the run budget or its key was used with
    other parameters (422)."""
    if not 1 <= len(runs) <= MAX_BULK_RUNS:
        raise invalid([issue("INVALID_BULK_SIZE", f"1-{MAX_BULK_RUNS} runs per call", "runs")])
    if idempotency_key is not None and not IDEMPOTENCY_KEY_RE.match(idempotency_key):
        raise invalid([issue("INVALID_IDEMPOTENCY_KEY", "invalid idempotency_key", "idempotency_key")])
    items = _bulk_items(runs, idempotency_key)
    issues = [
        found
        for index, options in enumerate(items)
        for found in run_option_issues(options, f"runs[{index}].")
    ]
    if issues:
        raise invalid(issues)
    scenario_runnable(scenario)
    known = _bulk_keys_check(scenario, items)
    inputs, snapshot_id = scenario_inputs_frozen(scenario), curve_snapshot_current()
    run_budget_check(
        _sizes(tenant, inputs, [(i, options) for i, options in enumerate(items) if i not in known])
    )
    reserved = len(items) - len(known)
    _runs_reserve(tenant, credential, reserved)
    try:
        return _bulk_create(tenant, scenario, items, actor, inputs, snapshot_id, reserved, credential)
    except BaseException:
        _runs_release(tenant, credential, reserved)
        raise


Outcome = RunSubmitted | ConflictError  # an item's run, or why it has none (its key is another scenario's)


def _submit_together(
    tenant: Tenant,
    scenario: Scenario,
    items: Sequence[RunOptions],
    actor: User | None,
    inputs: Mapping[str, Any],
    snapshot_id: int | None,
) -> list[Outcome]:
    """Every item as ``_submit_one`` would take it, in order, in ONE transaction: the runs that exist already
    (by key, or live with the same inputs, earlier items of the call included) found with two queries, the
    new ones inserted together with their events and ledger entries. IntegrityError (nothing written) when a
    concurrent submit took some of the same keys or inputs meanwhile."""
    fingerprints = [run_request_fingerprint(scenario=scenario, options=options) for options in items]
    runs = [
        run_new(
            tenant=tenant,
            scenario=scenario,
            options=options,
            actor=actor,
            inputs=inputs,
            snapshot_id=snapshot_id,
            fingerprint=fingerprint,
        )
        for options, fingerprint in zip(items, fingerprints, strict=True)
    ]
    keys = {options.idempotency_key for options in items if options.idempotency_key}
    by_key = {r.idempotency_key: r for r in ScenarioRun.objects.filter(idempotency_key__in=keys)}
    live = ScenarioRun.objects.filter(
        scenario=scenario, input_hash__in={r.input_hash for r in runs}, status__in=ScenarioRun.REUSABLE
    )
    by_hash = {r.input_hash: r for r in live}
    outcomes: list[Outcome] = []
    new: list[ScenarioRun] = []
    for options, fingerprint, run in zip(items, fingerprints, runs, strict=True):
        key = options.idempotency_key
        if key and (existing := by_key.get(key)) is not None:
            try:
                outcomes.append(
                    RunSubmitted(run_key_owner_check(existing, scenario, key, fingerprint), False)
                )
            except ConflictError as exc:
                outcomes.append(exc)
            continue
        if (same := by_hash.get(run.input_hash)) is not None:
            outcomes.append(RunSubmitted(same, created=False))
            continue
        new.append(run)
        by_hash[run.input_hash] = run
        if key:
            by_key[key] = run
        outcomes.append(RunSubmitted(run, created=True))
    with transaction.atomic():
        ScenarioRun.objects.bulk_create(new)
        runs_event_record(new, "queued")
        audit_append_many([run_submit_record(run, scenario) for run in new])
    return outcomes


def _submit_one_by_one(
    tenant: Tenant,
    scenario: Scenario,
    items: Sequence[RunOptions],
    actor: User | None,
    inputs: Mapping[str, Any],
    snapshot_id: int | None,
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for options in items:
        try:
            outcomes.append(
                _submit_one(
                    tenant=tenant,
                    scenario=scenario,
                    options=options,
                    actor=actor,
                    inputs=inputs,
                    snapshot_id=snapshot_id,
                )
            )
        except ConflictError as exc:
            outcomes.append(exc)
    return outcomes


def _bulk_create(
    tenant: Tenant,
    scenario: Scenario,
    items: Sequence[RunOptions],
    actor: User | None,
    inputs: Mapping[str, Any],
    snapshot_id: int | None,
    reserved: int,
    credential: str,
) -> BulkResult:
    try:
        outcomes = _submit_together(tenant, scenario, items, actor, inputs, snapshot_id)
    except IntegrityError:  # a concurrent submit won some of the keys or inputs: item by item, as it sees
        outcomes = _submit_one_by_one(tenant, scenario, items, actor, inputs, snapshot_id)
    data: list[dict[str, Any]] = []
    duplicates: list[dict[str, Any]] = []
    created = failed = 0
    for index, (options, outcome) in enumerate(zip(items, outcomes, strict=True)):
        key = options.idempotency_key
        if isinstance(outcome, ConflictError):
            failed += 1
            data.append(
                {
                    "index": index,
                    "idempotency_key": key,
                    "run_id": None,
                    "status": "failed",
                    "error": str(outcome),
                }
            )
        elif outcome.created:
            created += 1
            run = outcome.run
            data.append(
                {
                    "index": index,
                    "idempotency_key": key,
                    "run_id": str(run.pk),
                    "status": run.status,
                    "error": None,
                }
            )
        else:
            run = outcome.run
            duplicates.append(
                {
                    "index": index,
                    "idempotency_key": key,
                    "existing_run_id": str(run.pk),
                    "existing_status": run.status,
                    "created_at": run.created_at.isoformat(),
                }
            )
    _runs_release(tenant, credential, reserved - created)
    if created:
        transaction.on_commit(lambda: scenario_runs_dispatch(tenant=tenant))
    meta = {
        "total_runs": len(items),
        "successful_runs": created,
        "duplicate_runs": len(duplicates),
        "failed_runs": failed,
    }
    return BulkResult(data=data, duplicates=duplicates, meta=meta)


def scenario_run_cancel(*, run: ScenarioRun, tenant: Tenant) -> ScenarioRun:
    """Cancel a queued or running run; a finished run is returned unchanged (idempotent).

    A running computation sees the cancellation between two Monte Carlo chunks and stops without writing.
    """
    with transaction.atomic():
        locked = ScenarioRun.objects.select_for_update().get(pk=run.pk)
        if locked.is_finished:
            return locked
        run_finish(locked, ScenarioRun.Status.CANCELLED)
        run_event_record(locked, "cancelled")
        transaction.on_commit(lambda: scenario_runs_dispatch(tenant=tenant))
    return locked
