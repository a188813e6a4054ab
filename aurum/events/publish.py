"""Domain events to a tenant's live stream.

State changes go through the transactional outbox: ``event_publish_on_commit`` writes an
``OutboxEvent`` row in the caller's transaction, so an event is recorded exactly when its change commits
and is never lost (``aurum.events.outbox`` relays it, retrying until it is sent). ``event_publish`` is for
what may be lost without harm (progress ticks): sent now, best effort, never raising.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from django.utils import timezone

from aurum.events.channel import PublishError, channel_send, tenant_group
from aurum.events.outbox import outbox_append, outbox_append_many

__all__ = ["event_publish", "event_publish_on_commit", "events_publish_on_commit", "tenant_group"]

log = structlog.get_logger(__name__)


def event_publish(*, schema_name: str, event_type: str, payload: dict[str, Any]) -> bool:
    """Send an ephemeral event (progress) now. Best effort: False, logged, when it could not be sent."""
    event = {"type": event_type, "tenant": schema_name, "at": timezone.now().isoformat(), "data": payload}
    try:
        channel_send(schema_name=schema_name, event=event)
    except PublishError as exc:
        log.warning("ephemeral event not sent", event_type=event_type, tenant=schema_name, error=str(exc))
        return False
    return True


def event_publish_on_commit(
    *, schema_name: str, event_type: str, payload: dict[str, Any], membership_id: int | None = None
) -> None:
    """Record a domain event in the caller's transaction (the outbox); it is relayed once that commits and
    retried until sent. Nothing is recorded for a rolled-back change. With ``membership_id`` the event goes
    to that member's sockets only."""
    outbox_append(
        schema_name=schema_name, event_type=event_type, payload=payload, membership_id=membership_id
    )


def events_publish_on_commit(*, schema_name: str, events: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """``event_publish_on_commit`` for several ``(event_type, payload)`` events of one tenant at once (one
    INSERT)."""
    if events:
        outbox_append_many(schema_name=schema_name, events=events)
