"""Thin tasks. A run task is sent from its tenant's schema (tenant-schemas-celery) and runs in it; the sweep
is sent from the public schema (beat) and visits every active tenant.

Services send run tasks by name (``apps.scenarios.services.dispatch.RUN_TASK``); they never import this
module."""

from celery import shared_task
from django.db import connection

from apps.scenarios.services.dispatch import RUN_TASK, SWEEP_TASK
from apps.scenarios.services.execution import scenario_run_execute
from apps.scenarios.services.sweep import scenario_runs_sweep_tenants
from aurum.tenancy.db import tenant_connection
from tenants.models import Tenant


def _current_tenant() -> Tenant:
    """The tenant whose schema the task runs in: the row tenant-schemas-celery loaded for this task when it
    switched to the schema (not a second query a run), else looked up."""
    schema = tenant_connection().schema_name
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Tenant) and tenant.schema_name == schema:
        return tenant
    return Tenant.objects.get(schema_name=schema)


@shared_task(name=RUN_TASK)
def scenario_run_execute_task(run_id: str) -> str | None:
    """Transient errors are retried by the service (re-queued with backoff, up to the run's max_retries)."""
    run = scenario_run_execute(run_id=run_id, tenant=_current_tenant())
    return None if run is None else str(run.status)


@shared_task(name=SWEEP_TASK)
def scenario_runs_sweep_task() -> dict[str, object]:
    return scenario_runs_sweep_tenants().as_dict()
