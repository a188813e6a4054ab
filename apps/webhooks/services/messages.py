"""Messages: the fan-out of a domain event to the tenant's subscribed endpoints, pings, redeliveries.

The fan-out runs in a Celery task the outbox relay starts for every deliverable event type
(``AURUM_EVENT_TASKS``), in the event's tenant schema, at least once: a message is unique per (endpoint,
event), so a repeat creates nothing. Each endpoint's sequence number is taken under the endpoint's row lock,
so messages of one endpoint are numbered 1, 2, 3 … without gaps in the order they were created. Delivery
starts right after the commit (``webhooks.deliver`` for the tenant); the beat sweep catches what that misses.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.webhooks.event_types import EVENT_TYPES, PING, resource_url
from apps.webhooks.models import WebhookEndpoint, WebhookMessage
from aurum.celery import app as celery_app
from aurum.events.models import OutboxEvent
from aurum.tenancy.db import tenant_connection
from aurum.transient import TRANSIENT_ERRORS

log = structlog.get_logger(__name__)

DELIVER_TASK = "webhooks.deliver"
FANOUT_TASK = "webhooks.event_fanout"
SWEEP_TASK = "webhooks.sweep"
State = WebhookMessage.State


def retry_window() -> timedelta:
    return timedelta(hours=settings.AURUM_WEBHOOK_RETRY_HOURS)


def deliver_soon() -> None:
    """After the current transaction commits, ask a worker to deliver the tenant's due messages now (the
    beat sweep does it anyway within seconds: a broker error is only logged)."""

    def send() -> None:
        try:
            celery_app.send_task(DELIVER_TASK, queue=settings.AURUM_WEBHOOK_QUEUE)
        except TRANSIENT_ERRORS:
            log.warning("webhook delivery not started; the sweep will deliver", exc_info=True)

    transaction.on_commit(send, robust=True)


def message_body(
    *, event_id: uuid.UUID, event_type: str, occurred_at: datetime, sequence: int, data: dict[str, Any]
) -> dict[str, Any]:
    """What the receiver gets: ``{id, type, tenant, occurred_at, sequence, data}``; ``data`` carries the
    event's payload and, under ``url``, the v2 path of the resource it is about."""
    url = resource_url(event_type, data)
    return {
        "id": str(event_id),
        "type": event_type,
        "tenant": tenant_connection().schema_name,
        "occurred_at": occurred_at.isoformat(),
        "sequence": sequence,
        "data": {**data, **({"url": url} if url else {})},
    }


def _message_add(
    *,
    endpoint_id: uuid.UUID,
    event_id: uuid.UUID,
    event_type: str,
    occurred_at: datetime,
    data: dict[str, Any],
) -> WebhookMessage | None:
    """The endpoint's message for the event, numbered under the endpoint's lock; None if it exists."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    if WebhookMessage.objects.filter(endpoint=endpoint, event_id=event_id).exists():
        return None
    endpoint.sequence += 1
    endpoint.save(update_fields=["sequence"])
    now = timezone.now()
    body = message_body(
        event_id=event_id,
        event_type=event_type,
        occurred_at=occurred_at,
        sequence=endpoint.sequence,
        data=data,
    )
    return WebhookMessage.objects.create(
        endpoint=endpoint,
        event_id=event_id,
        event_type=event_type,
        sequence=endpoint.sequence,
        payload=body,
        next_attempt_at=now,
        retry_until=now + retry_window(),
    )


def webhook_event_fanout(*, event_id: str) -> list[WebhookMessage]:
    """One message per enabled endpoint of the tenant subscribed to the outbox event's type; nothing for an
    event addressed to one member (``membership_id``), an unknown one, or a repeat. The new messages."""
    event = OutboxEvent.objects.filter(event_id=event_id).first()
    if event is None or event.membership_id is not None or event.event_type not in EVENT_TYPES:
        return []
    if event.tenant_schema != tenant_connection().schema_name:
        return []  # sent to the wrong schema: never deliver one tenant's event to another's endpoints
    endpoint_ids = list(
        WebhookEndpoint.objects.filter(is_enabled=True, events__contains=[event.event_type])
        .order_by("id")
        .values_list("id", flat=True)
    )
    created: list[WebhookMessage] = []
    with transaction.atomic():
        for endpoint_id in endpoint_ids:
            message = _message_add(
                endpoint_id=endpoint_id,
                event_id=event.event_id,
                event_type=event.event_type,
                occurred_at=event.occurred_at,
                data=dict(event.payload),
            )
            if message is not None:
                created.append(message)
        if created:
            deliver_soon()
    return created


def webhook_ping(*, endpoint: WebhookEndpoint) -> WebhookMessage:
    """A ``webhook.ping`` message to the endpoint, delivered like any other (a disabled endpoint gets it
    once enabled again)."""
    with transaction.atomic():
        message = _message_add(
            endpoint_id=endpoint.pk,
            event_id=uuid.uuid4(),
            event_type=PING,
            occurred_at=timezone.now(),
            data={"endpoint_id": str(endpoint.pk)},
        )
        assert message is not None  # a new event id
        deliver_soon()
    return message


def webhook_message_redeliver(*, message: WebhookMessage) -> WebhookMessage:
    """Deliver the message again, now, with a fresh retry window (same id, body and sequence: a receiver
    that already has it recognises it by ``webhook-id``)."""
    with transaction.atomic():
        locked = WebhookMessage.objects.select_for_update().get(pk=message.pk)
        now = timezone.now()
        locked.state = State.PENDING
        locked.next_attempt_at = now
        locked.retry_until = now + retry_window()
        locked.save(update_fields=["state", "next_attempt_at", "retry_until"])
        deliver_soon()
    return locked
