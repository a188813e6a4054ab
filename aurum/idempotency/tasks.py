"""Thin task: prune expired idempotent answers, on beat."""

from celery import shared_task

from aurum.idempotency.services import idempotent_requests_prune_all_tenants


@shared_task(name="idempotency.prune", ignore_result=True)
def idempotent_requests_prune_task() -> dict[str, int]:
    return idempotent_requests_prune_all_tenants()
