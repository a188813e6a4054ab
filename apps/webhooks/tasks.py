"""Thin tasks: the fan-out of a domain event (started by the outbox relay, in the event's tenant schema),
delivery of one tenant's due messages (after a fan-out, ping, redelivery or enable, or sent by the sweep),
and the beat's sweep (public schema), which sends a delivery task per tenant with messages due."""

from typing import Any

from celery import shared_task

from apps.webhooks.services.delivery import webhook_deliver_due, webhook_sweep_dispatch
from apps.webhooks.services.messages import DELIVER_TASK, FANOUT_TASK, SWEEP_TASK, webhook_event_fanout
from aurum.transient import TRANSIENT_ERRORS


@shared_task(name=FANOUT_TASK, autoretry_for=TRANSIENT_ERRORS, max_retries=5, retry_backoff=2, acks_late=True)
def webhook_event_fanout_task(event_id: str, payload: dict[str, Any]) -> int:
    """The number of messages created (0 for a repeat, a member's event, or no subscribed endpoint)."""
    return len(webhook_event_fanout(event_id=event_id))


@shared_task(name=DELIVER_TASK, ignore_result=True)
def webhook_deliver_task() -> dict[str, int]:
    tally = webhook_deliver_due()
    return {"endpoints": tally.endpoints, "succeeded": tally.succeeded, "retrying": tally.retrying}


@shared_task(name=SWEEP_TASK, ignore_result=True)
def webhook_sweep_task() -> list[str]:
    """One delivery task per tenant with messages due (the schemas)."""
    return webhook_sweep_dispatch()
