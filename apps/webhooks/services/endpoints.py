"""Writes on webhook endpoints: create, change, delete, rotate the secret, disable and enable.

URLs are checked when saved (``apps.webhooks.outbound.url_check``: https, no private or internal address)
and again at every delivery (DNS may change). Secrets are shown once: the caller gets the new secret from
``webhook_endpoint_create`` and ``webhook_secret_rotate`` and nothing else ever returns it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_append
from apps.webhooks.event_types import EVENT_TYPES
from apps.webhooks.models import WebhookEndpoint, WebhookMessage
from apps.webhooks.outbound import url_check
from apps.webhooks.services.messages import deliver_soon, retry_window
from apps.webhooks.signing import secret_generate
from aurum.errors import InvalidInputError

ROTATION_OVERLAP = timedelta(hours=24)
_UNSET: Any = object()


def _events_check(events: Sequence[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown or not events:
        raise InvalidInputError.field(
            "events",
            f"Subscribe to at least one of: {', '.join(EVENT_TYPES)}"
            + (f" (unknown: {', '.join(unknown)})." if unknown else "."),
        )
    return sorted(set(events), key=EVENT_TYPES.index)


def webhook_endpoint_create(
    *, url: str, events: Sequence[str], description: str = "", membership_id: int | None = None
) -> WebhookEndpoint:
    """A new, enabled endpoint with a new signing secret (``endpoint.secret``: show it once)."""
    url_check(url)
    subscribed = _events_check(events)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            url=url,
            events=subscribed,
            description=description,
            secret=secret_generate(),
            created_by_membership_id=membership_id,
        )
        _audit("webhook.create", endpoint, {"url": url, "events": subscribed, "description": description})
        return endpoint


def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str = _UNSET,
    events: Sequence[str] = _UNSET,
    description: str = _UNSET,
    enabled: bool = _UNSET,
) -> WebhookEndpoint:
    """Change what is given; ``enabled`` true enables (as ``webhook_endpoint_enable``), false pauses."""
    if url is not _UNSET:
        url_check(url)
    subscribed = _events_check(events) if events is not _UNSET else _UNSET
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if url is not _UNSET:
            locked.url = url
        if subscribed is not _UNSET:
            locked.events = subscribed
        if description is not _UNSET:
            locked.description = description
        locked.save()
        changed = {"url": url, "events": subscribed, "description": description}
        _audit("webhook.update", locked, {k: v for k, v in changed.items() if v is not _UNSET})
        if enabled is True and not locked.is_enabled:
            locked = webhook_endpoint_enable(endpoint=locked)
        elif enabled is False and locked.is_enabled:
            locked.is_enabled, locked.disabled_at = False, timezone.now()
            locked.disabled_reason = "Paused by a member."
            locked.save(update_fields=["is_enabled", "disabled_at", "disabled_reason"])
            _audit("webhook.pause", locked, {})
    return locked


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint with its messages and delivery log."""
    with transaction.atomic():
        WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()
        _audit("webhook.delete", endpoint, {"url": endpoint.url})


def webhook_secret_rotate(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new secret; the current one becomes the previous and signs too for 24 h (a previous secret still
    in its overlap is dropped). ``endpoint.secret`` is the new one: show it once."""
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.previous_secret = locked.secret
        locked.previous_secret_expires_at = timezone.now() + ROTATION_OVERLAP
        locked.secret = secret_generate()
        locked.save(update_fields=["previous_secret", "previous_secret_expires_at", "secret", "updated_at"])
        # Never the secrets: only that one was made, and until when the old one signs.
        _audit(
            "webhook.rotate_secret", locked, {"previous_secret_expires_at": locked.previous_secret_expires_at}
        )
    return locked


def webhook_endpoint_enable(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Enable the endpoint again: its failure count starts over and the messages held while it was
    disabled are due now, each with a fresh retry window."""
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.is_enabled = True
        locked.disabled_reason, locked.disabled_at = "", None
        locked.consecutive_failures, locked.failing_since = 0, None
        locked.save()
        now = timezone.now()
        WebhookMessage.objects.filter(
            endpoint=locked, state__in=[WebhookMessage.State.PENDING, WebhookMessage.State.DELIVERING]
        ).update(state=WebhookMessage.State.PENDING, next_attempt_at=now, retry_until=now + retry_window())
        _audit("webhook.enable", locked, {})
        deliver_soon()
    return locked


def _audit(action: str, endpoint: WebhookEndpoint, changes: dict[str, object]) -> None:
    """The change's entry in the tenant's audit ledger, in the same transaction (docs/audit.md)."""
    audit_append(action=action, resource_type="webhook_endpoint", resource_id=endpoint.pk, changes=changes)
