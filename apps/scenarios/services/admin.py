"""An administrator's hand on a run's state and on the cached outputs answers (the original v1 admin paths).

Run states belong to the worker and the sweep; an administrator may only end a run, through the transitions
the system itself makes: cancelled (``scenario_run_cancel``) or failed with a message (as the sweep fails a
run whose worker is lost: ``run_finish`` + the run's event, its slot freed for the dispatcher).
"""

from __future__ import annotations

from django.db import transaction

from apps.audit.services import audit_append
from apps.scenarios.models import Scenario, ScenarioRun
from apps.scenarios.output_cache import scenario_outputs_version_bump
from apps.scenarios.services.dispatch import scenario_runs_dispatch
from apps.scenarios.services.lifecycle import run_event_record, run_finish
from apps.scenarios.services.runs import scenario_run_cancel
from aurum.errors import ConflictError, InvalidInputError
from tenants.models import Tenant

Status = ScenarioRun.Status
# The states an administrator may move an unfinished run to.
ADMIN_TARGET_STATES = (Status.CANCELLED, Status.FAILED)
ERROR_MAX = 4000


def _finished_conflict(run: ScenarioRun, state: str) -> ConflictError:
    return ConflictError(f"The run already finished as {run.status}; it cannot become {state}.")


def scenario_run_fail_by_admin(*, run: ScenarioRun, tenant: Tenant, error: str) -> ScenarioRun:
    """Fail a queued or running run with ``error`` (its staged rows dropped, its slot freed for the next
    queued run). A run already failed is returned as it is; one finished otherwise is a ConflictError."""
    error = error.strip()
    if not error:
        raise InvalidInputError("A failed run needs an error message.", field="error")
    if len(error) > ERROR_MAX:
        raise InvalidInputError(f"The error message is longer than {ERROR_MAX} characters.", field="error")
    with transaction.atomic():
        locked = ScenarioRun.objects.select_for_update().get(pk=run.pk)
        if locked.status == Status.FAILED:
            return locked
        if locked.is_finished:
            raise _finished_conflict(locked, Status.FAILED)
        code = ScenarioRun.ErrorCode.ADMIN_FAILED
        run_finish(locked, Status.FAILED, error=error, code=code)
        run_event_record(locked, str(Status.FAILED), error=error[:500], code=code, by="admin")
        transaction.on_commit(lambda: scenario_runs_dispatch(tenant=tenant))
    return locked


def scenario_run_state_set(*, run: ScenarioRun, tenant: Tenant, state: str, error: str = "") -> ScenarioRun:
    """Move an unfinished run to ``state`` (cancelled or failed; see ADMIN_TARGET_STATES). Asking for the
    state the run is already in answers it unchanged; any other transition is a ConflictError."""
    state = state.lower()
    if state not in Status.values:
        raise InvalidInputError(f"Unknown run state {state!r}.", field="state")
    if state not in ADMIN_TARGET_STATES:
        allowed = ", ".join(s.upper() for s in ADMIN_TARGET_STATES)
        raise ConflictError(
            f"A run cannot be moved to {state.upper()} by hand: runs are started and finished by the worker; "
            f"an administrator may only end an unfinished run as {allowed}.",
            allowed=[s.upper() for s in ADMIN_TARGET_STATES],
        )
    if state == Status.FAILED:
        return scenario_run_fail_by_admin(run=run, tenant=tenant, error=error)
    cancelled = scenario_run_cancel(run=run, tenant=tenant)
    if cancelled.status != Status.CANCELLED:
        raise _finished_conflict(cancelled, Status.CANCELLED)
    return cancelled


def scenario_outputs_cache_invalidate(*, scenario: Scenario, tenant: Tenant) -> int:
    """Make every cached answer about the scenario's outputs stale (its cache version is bumped) and record
    who asked for it. The new version, or -1 when Redis was unreachable (the answers expire by their TTL)."""
    with transaction.atomic():
        audit_append(
            action="scenario.cache_invalidate",
            resource_type="scenario",
            resource_id=scenario.pk,
            changes={"cache": "outputs"},
        )
        version = scenario_outputs_version_bump(schema_name=tenant.schema_name, scenario_id=str(scenario.pk))
    return version
