"""Thin tasks: the flush of usage counts from Redis to Postgres, on beat."""

from celery import shared_task

from apps.usage.services import usage_flush
from aurum.transient import TRANSIENT_ERRORS


@shared_task(name="usage.flush", ignore_result=True, autoretry_for=TRANSIENT_ERRORS, max_retries=3)
def usage_flush_task() -> dict[str, int]:
    result = usage_flush()
    return {"batches": result.batches, "counts": result.counts}
