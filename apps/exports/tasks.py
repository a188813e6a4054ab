"""Thin task: write one queued tenant export (maintenance queue, by aurum.queues' default)."""

from celery import shared_task

from apps.exports.services import EXPORT_TASK, tenant_export_prune, tenant_export_run


@shared_task(name=EXPORT_TASK, ignore_result=True, acks_late=True)
def tenant_export_task(export_id: str) -> str:
    return tenant_export_run(export_id=export_id).status


@shared_task(name="exports.prune", ignore_result=True)
def tenant_export_prune_task() -> int:
    return tenant_export_prune()
