"""Reads of webhooks: the tenant's endpoints, an endpoint's delivery attempts and its messages by sequence.

Everything is in the tenant's schema: another tenant's endpoint is simply not there (404).
"""

from __future__ import annotations

import uuid

from django.db.models import OuterRef, QuerySet, Subquery
from django_tenants.utils import tenant_context

from apps.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookMessage
from aurum.errors import NotFoundError
from tenants.models import Tenant


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def webhook_endpoint_list() -> QuerySet[WebhookEndpoint]:
    """The tenant's endpoints, oldest first."""
    return WebhookEndpoint.objects.order_by("created_at", "id")


def webhook_endpoint_list_with_last_delivery() -> QuerySet[WebhookEndpoint]:
    """The tenant's endpoints, oldest first, each annotated with its newest attempt (``last_attempted_at``,
    ``last_outcome``, ``last_status_code``, ``last_error``; None when it has none), in one query."""
    newest = WebhookDelivery.objects.filter(endpoint=OuterRef("pk")).order_by("-attempted_at", "-id")[:1]
    return webhook_endpoint_list().annotate(
        **{
            f"last_{name}": Subquery(newest.values(name))
            for name in ("attempted_at", "outcome", "status_code", "error")
        }
    )


def webhook_endpoint_get(*, endpoint_id: object) -> WebhookEndpoint:
    """One endpoint of the tenant; 404 for an unknown (or malformed) id."""
    pk = _uuid(endpoint_id)
    endpoint = None if pk is None else webhook_endpoint_list().filter(pk=pk).first()
    if endpoint is None:
        raise NotFoundError("No such webhook endpoint.")
    return endpoint


def webhook_delivery_list(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The endpoint's delivery attempts, newest first, each with its message."""
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .select_related("message")
        .order_by("-attempted_at", "-id")
    )


def webhook_delivery_get(*, endpoint: WebhookEndpoint, delivery_id: object) -> WebhookDelivery:
    """One attempt of the endpoint's; 404 otherwise."""
    try:
        pk = int(str(delivery_id))
    except ValueError:
        pk = None
    delivery = None if pk is None else webhook_delivery_list(endpoint=endpoint).filter(pk=pk).first()
    if delivery is None:
        raise NotFoundError("No such delivery.")
    return delivery


def webhook_message_list(*, endpoint: WebhookEndpoint, after_sequence: int = 0) -> QuerySet[WebhookMessage]:
    """The endpoint's messages after ``after_sequence``, in sequence order (a receiver's catch-up)."""
    return WebhookMessage.objects.filter(endpoint=endpoint, sequence__gt=after_sequence).order_by("sequence")


def webhook_backlog_by_tenant() -> dict[tuple[str, ...], float]:
    """Messages waiting to be delivered (pending or being delivered) per active tenant: the
    ``aurum_webhook_backlog`` gauge (one small count per tenant schema, read at scrape time)."""
    backlog: dict[tuple[str, ...], float] = {}
    for tenant in Tenant.objects.filter(status=Tenant.Status.ACTIVE).order_by("schema_name"):
        with tenant_context(tenant):
            waiting = WebhookMessage.objects.filter(
                state__in=[WebhookMessage.State.PENDING, WebhookMessage.State.DELIVERING]
            ).count()
        backlog[(tenant.schema_name,)] = float(waiting)
    return backlog
