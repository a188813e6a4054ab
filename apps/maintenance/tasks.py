"""Thin task: beat runs a lakehouse maintenance pass nightly (on the maintenance queue)."""

from celery import shared_task

from apps.maintenance.services import lakehouse_maintain

LAKEHOUSE_MAINTAIN_TASK = "maintenance.lakehouse"


@shared_task(name=LAKEHOUSE_MAINTAIN_TASK)
def lakehouse_maintain_task() -> int:
    """The id of the MaintenanceRun recorded."""
    return lakehouse_maintain().pk
