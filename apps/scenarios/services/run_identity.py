"""What makes two submissions the same run, and the run a submission describes.

Two rules make a submit idempotent:
- the same inputs (the input hash) return the live (queued, running or succeeded) run that has them;
- the same ``Idempotency-Key`` returns the run made with it, if the request is the same: its fingerprint
  (the scenario and every run option, defaults applied) is stored with the key, and the same key with another
  request is a 422 (Stripe's rule). A key used for another scenario's run is a 409.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from apps.accounts.models import User
from apps.audit.services import AuditRecord
from apps.scenarios.models import Scenario, ScenarioRun
from apps.scenarios.services.inputs import CODE_VERSION, RunOptions
from aurum.errors import ConflictError, UnprocessableError
from aurum.lakehouse.tables import curve_observation_table
from tenants.models import Tenant

KEY_REUSED = "idempotency-key-reused"


def _canonical_hash(document: Mapping[str, Any]) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_input_hash(
    *, tenant: Tenant, scenario: Scenario, inputs: Mapping[str, Any], fingerprint: Mapping[str, Any]
) -> str:
    """SHA-256 of the canonical (key-sorted) JSON of every input that can change a run's outputs."""
    return _canonical_hash(
        {"tenant": tenant.schema_name, "scenario_id": str(scenario.pk), **inputs, **fingerprint}
    )


def run_request_fingerprint(*, scenario: Scenario, options: RunOptions) -> str:
    """SHA-256 of what a run request asks for (defaults applied, the key itself left out): two requests with
    one idempotency key must have the same fingerprint. Server state (the scenario's version, the curves'
    snapshot) is not part of it: an honest retry after a new ingest is still the same request."""
    return _canonical_hash(
        {
            "scenario_id": str(scenario.pk),
            "priority": options.priority,
            "seed": 0 if options.seed is None else int(options.seed),
            "code_version": options.code_version or CODE_VERSION,
            "timeout_minutes": options.timeout_minutes,
            "max_retries": options.max_retries,
            "max_memory_mb": options.max_memory_mb,
            "parameters": dict(options.parameters),
            "environment": dict(options.environment),
        }
    )


def curve_snapshot_current() -> int | None:
    snapshot = curve_observation_table().current_snapshot()
    return snapshot.snapshot_id if snapshot is not None else None


def scenario_inputs_frozen(scenario: Scenario) -> dict[str, Any]:
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


def run_key_owner_check(existing: ScenarioRun, scenario: Scenario, key: str, fingerprint: str) -> ScenarioRun:
    """``existing``, the run made with ``key``: 409 if it is another scenario's, 422 if it was another
    request."""
    if existing.scenario_id != scenario.pk:
        raise ConflictError(
            f"Idempotency key '{key}' was used for another scenario's run.", slug="idempotency-key-conflict"
        )
    if existing.idempotency_fingerprint and existing.idempotency_fingerprint != fingerprint:
        raise UnprocessableError(
            f"Idempotency key '{key}' was used with other parameters; use a new key for a new request.",
            slug=KEY_REUSED,
            idempotency_key=key,
            existing_run_id=str(existing.pk),
        )
    return existing


def run_for_key(scenario: Scenario, key: str | None, fingerprint: str) -> ScenarioRun | None:
    """The run made with ``key`` (checked by ``run_key_owner_check``), or None."""
    if key is None:
        return None
    existing = ScenarioRun.objects.filter(idempotency_key=key).first()
    return None if existing is None else run_key_owner_check(existing, scenario, key, fingerprint)


def run_new(
    *,
    tenant: Tenant,
    scenario: Scenario,
    options: RunOptions,
    actor: User | None,
    inputs: Mapping[str, Any],
    snapshot_id: int | None,
    fingerprint: str,
) -> ScenarioRun:
    """The queued run (unsaved) a submission describes, its input hash set."""
    seed = 0 if options.seed is None else int(options.seed)
    code_version = options.code_version or CODE_VERSION
    hashed = {
        "curve_snapshot_id": snapshot_id,
        "seed": seed,
        "code_version": code_version,
        "parameters": dict(options.parameters),
        "environment": dict(options.environment),
    }
    return ScenarioRun(
        scenario=scenario,
        priority=options.priority,
        priority_rank=ScenarioRun.PRIORITY_RANK[ScenarioRun.Priority(options.priority)],
        input_hash=run_input_hash(tenant=tenant, scenario=scenario, inputs=inputs, fingerprint=hashed),
        idempotency_key=options.idempotency_key or "",
        idempotency_fingerprint=fingerprint if options.idempotency_key else "",
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


def run_submit_record(run: ScenarioRun, scenario: Scenario) -> AuditRecord:
    """The ledger entry of a run's submission."""
    return AuditRecord(
        action="run.submit",
        resource_type="scenario_run",
        resource_id=run.pk,
        changes={
            "scenario": str(scenario.pk),
            "scenario_version": scenario.version,
            "priority": run.priority,
            "input_hash": run.input_hash,
            "seed": run.seed,
            "idempotency_key": run.idempotency_key,
        },
    )
