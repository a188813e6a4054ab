"""Thin tasks. A run task is sent from its tenant's schema (tenant-schemas-celery) and runs in it; the sweep
is sent from the public schema (beat) and visits every active tenant.

Services send run tasks by name (``apps.scenarios.services.dispatch.RUN_TASK``); they never import this
module."""

from celery import shared_task

from apps.scenarios.services.dispatch import RUN_TASK, SWEEP_TASK
from apps.scenarios.services.execution import scenario_run_execute
from apps.scenarios.services.sweep import scenario_runs_sweep_tenants
from aurum.tenancy.db import tenant_connection
from tenants.models import Tenant


def _current_tenant() -> Tenant:
    return Tenant.objects.select_related("plan").get(schema_name=tenant_connection().schema_name)


@shared_task(name=RUN_TASK)
def scenario_run_execute_task(run_id: str) -> str | None:
    """Transient errors are retried by the service (re-queued with backoff, up to the run's max_retries)."""
    run = scenario_run_execute(run_id=run_id, tenant=_current_tenant())
    return None if run is None else str(run.status)


@shared_task(name=SWEEP_TASK)
def scenario_runs_sweep_task() -> dict[str, object]:
    return scenario_runs_sweep_tenants().as_dict()
