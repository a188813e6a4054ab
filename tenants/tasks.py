"""Thin task: refill the spare tenant schemas (maintenance queue) after provisioning took one."""

from celery import shared_task

from tenants.spares import spares_fill

SPARES_FILL_TASK = "tenants.spares_fill"


@shared_task(name=SPARES_FILL_TASK)
def spares_fill_task() -> int:
    """How many spares were cloned."""
    return spares_fill()
