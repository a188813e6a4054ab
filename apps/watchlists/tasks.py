"""Thin tasks: the watchlist fan-out of a published vintage, started by the outbox relay of
``ingestion.completed`` (``AURUM_EVENT_TASKS``) in the event's tenant schema."""

from datetime import date
from typing import Any

from celery import shared_task

from apps.watchlists.services import watchlist_vintage_published
from aurum.tenancy.db import tenant_connection
from aurum.transient import TRANSIENT_ERRORS
from tenants.models import Tenant

VINTAGE_TASK = "watchlists.vintage_published"


@shared_task(
    name=VINTAGE_TASK, autoretry_for=TRANSIENT_ERRORS, max_retries=5, retry_backoff=2, acks_late=True
)
def watchlist_vintage_published_task(event_id: str, payload: dict[str, Any]) -> int:
    """The number of notices raised (0 for an event without a published day, or a repeat)."""
    dataset, asof = payload.get("dataset"), payload.get("asof_date")
    if not dataset or not asof or payload.get("status", "").startswith("failed"):
        return 0
    tenant = Tenant.objects.select_related("plan").get(schema_name=tenant_connection().schema_name)
    return len(watchlist_vintage_published(tenant=tenant, dataset=dataset, asof=date.fromisoformat(asof)))
