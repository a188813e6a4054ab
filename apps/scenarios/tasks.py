"""Thin tasks. A run task is sent from its tenant's schema (tenant-schemas-celery) and runs in it; the sweep
is sent from the public schema (beat) and visits every active tenant."""

from celery import shared_task
from django_tenants.utils import tenant_context

from apps.scenarios.services import scenario_run_execute, scenario_runs_sweep
from aurum.tenancy.db import tenant_connection
from tenants.models import Tenant


def _current_tenant() -> Tenant:
    return Tenant.objects.select_related("plan").get(schema_name=tenant_connection().schema_name)


@shared_task(name="scenarios.run_execute")
def scenario_run_execute_task(run_id: str) -> str | None:
    """Transient errors are retried by the service (re-queued with backoff, up to the run's max_retries)."""
    run = scenario_run_execute(run_id=run_id, tenant=_current_tenant())
    return None if run is None else str(run.status)


@shared_task(name="scenarios.sweep")
def scenario_runs_sweep_task() -> dict[str, dict[str, int]]:
    swept = {}
    for tenant in Tenant.objects.select_related("plan").filter(status=Tenant.Status.ACTIVE):
        with tenant_context(tenant):
            swept[tenant.schema_name] = scenario_runs_sweep(tenant=tenant)
    return swept
