"""Domain events to a tenant's live stream.

Services call ``event_publish_on_commit`` inside their transaction.
"""

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone


def tenant_group(schema_name: str) -> str:
    return f"tenant.{schema_name}.events"


def event_publish(*, schema_name: str, event_type: str, payload: dict[str, Any]) -> None:
    """Push an event to every websocket of the tenant now."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {
        "type": "domain.event",
        "event": {
            "type": event_type,
            "tenant": schema_name,
            "at": timezone.now().isoformat(),
            "data": payload,
        },
    }
    async_to_sync(layer.group_send)(tenant_group(schema_name), message)


def event_publish_on_commit(*, schema_name: str, event_type: str, payload: dict[str, Any]) -> None:
    """Publish once the surrounding transaction commits; nothing is sent for a rolled-back change."""
    transaction.on_commit(
        lambda: event_publish(schema_name=schema_name, event_type=event_type, payload=payload)
    )
