"""The transactional outbox: a domain event is a row written in the same transaction as the change it
describes, then relayed to the tenant's live stream (and, later, webhooks) by ``aurum.events.outbox``."""

from __future__ import annotations

import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class OutboxEvent(models.Model):
    """One event for one tenant. ``event_id`` is the event's identity for consumers: delivery is at least
    once, so a consumer may see an id twice and must treat the second as a repeat."""

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant_schema = models.CharField(max_length=63)
    event_type = models.CharField(max_length=100)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    # An event for one member only (a watchlist notice): sent to that member's sockets, not the tenant's.
    membership_id = models.BigIntegerField(null=True, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    # Not before this time: a failed relay backs off.
    available_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")
    relayed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The relay's question: what is due and not yet relayed, oldest first.
            models.Index(
                fields=["available_at", "id"],
                name="outbox_due",
                condition=models.Q(relayed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} for {self.tenant_schema} ({self.event_id})"

    def message(self) -> dict[str, object]:
        """What a consumer receives: ``{id, type, tenant, at, data}``."""
        return {
            "id": str(self.event_id),
            "type": self.event_type,
            "tenant": self.tenant_schema,
            "at": self.occurred_at.isoformat(),
            "data": self.payload,
        }
