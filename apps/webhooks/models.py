"""Signed webhooks (tenant schema): the tenant's endpoints, one message per (endpoint, event) with its
delivery schedule, and every attempt to deliver it.

The schedule lives here, not in Celery countdowns: a message is due when it is ``pending`` and its
``next_attempt_at`` has passed; the sweep claims an endpoint (``lease_until``) and sends its due messages.
"""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone

from aurum.sealing import SealedTextField


class WebhookEndpoint(models.Model):
    """Where a tenant wants events of some types POSTed, signed with its secret(s).

    Secrets are kept as issued (``whsec_`` + base64) because signing needs them; they are shown once, in
    the create and rotate answers. After a rotation the previous secret also signs until
    ``previous_secret_expires_at`` (24 h), so a receiver can switch over without losing a message.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=500, blank=True, default="")
    events = ArrayField(models.CharField(max_length=100))
    is_enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=1000, blank=True, default="")
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Sealed at rest (aurum/sealing.py): the signing needs them in the clear, a database dump must not.
    secret = SealedTextField()
    previous_secret = SealedTextField(blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    # The last sequence number given to a message of this endpoint (assigned under the row's lock).
    sequence = models.BigIntegerField(default=0)
    # The current run of failed attempts (reset by a success): the endpoint is disabled after a long one.
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    # A sweep holds the endpoint until then while it sends (another sweep skips it).
    lease_until = models.DateTimeField(null=True, blank=True)
    created_by_membership_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.url

    def active_secrets(self, *, at: object = None) -> list[str]:
        """The secrets that sign now: the current one, and the previous one during its overlap."""
        now = at or timezone.now()
        secrets = [self.secret]
        expires = self.previous_secret_expires_at
        if self.previous_secret and expires is not None and expires > now:  # type: ignore[operator]
            secrets.append(self.previous_secret)
        return secrets


class WebhookMessage(models.Model):
    """One event for one endpoint: its body, its place in the endpoint's sequence and its schedule.

    Unique per (endpoint, event): the outbox relays an event at least once, a repeat finds it here.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERING = "delivering", "Delivering"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"  # a final answer (3xx, 4xx other than 429) or a refused address
        DEAD = "dead", "Dead"  # retried for the whole window without success

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="messages")
    event_id = models.UUIDField()
    event_type = models.CharField(max_length=100)
    sequence = models.BigIntegerField()
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # Retried until then (about three days after it was created or redelivered), then dead.
    retry_until = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["endpoint", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="uniq_webhook_message_event"),
            models.UniqueConstraint(fields=["endpoint", "sequence"], name="uniq_webhook_message_sequence"),
        ]
        indexes = [
            # The sweep's question: which messages are due.
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_message_due",
                condition=Q(state__in=["pending", "delivering"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.sequence} to {self.endpoint_id}"

    @property
    def webhook_id(self) -> str:
        """The ``webhook-id`` header: the same for every attempt of this message."""
        return f"msg_{self.pk.hex}"


class WebhookDelivery(models.Model):
    """One attempt to deliver a message, with what the receiver answered (or why it could not)."""

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        RETRY = "retry", "Will retry"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="deliveries")
    attempt = models.PositiveIntegerField()
    attempted_at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    response_headers = models.JSONField(default=dict)
    response_body = models.TextField(blank=True, default="")
    error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["-attempted_at", "-id"]
        indexes = [models.Index(fields=["endpoint", "-attempted_at", "-id"], name="webhook_delivery_log")]

    def __str__(self) -> str:
        return f"attempt {self.attempt} of {self.message_id}: {self.outcome}"
