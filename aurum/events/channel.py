"""The channel layer as a sender: one long-lived publisher per process for the tenants' live streams."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import channel_layers
from django.conf import settings

PUBLISH_TIMEOUT_SECONDS = 2.0
_lock = threading.Lock()
# One publisher per channel-layer configuration (one in a deployment; tests point the layer elsewhere).
_publishers: dict[str, tuple[asyncio.AbstractEventLoop, threading.Thread, Any]] = {}


class PublishError(Exception):
    """The channel layer could not take the event (Redis down or slow)."""


def _publisher_loop() -> tuple[asyncio.AbstractEventLoop, Any]:
    """One event loop per process, on a daemon thread, that every publish runs on.

    ``async_to_sync`` from a worker thread ran each publish on a fresh loop, and the Redis channel layer keeps
    its connections per loop: every event paid for a new connection (2.3 ms CPU each, measured). On one
    long-lived loop the layer's connections are reused. The publisher has its own layer instance, so the
    shared one (``get_channel_layer()``, used by consumers to receive) keeps its per-loop state to itself.
    Re-created after a fork (the thread does not survive it).
    """
    config = repr(getattr(settings, "CHANNEL_LAYERS", {}).get(DEFAULT_CHANNEL_LAYER))
    with _lock:
        publisher = _publishers.get(config)
        if publisher is None or not publisher[1].is_alive():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="aurum-event-publisher", daemon=True)
            thread.start()
            publisher = (loop, thread, channel_layers.make_backend(DEFAULT_CHANNEL_LAYER))
            _publishers[config] = publisher
        return publisher[0], publisher[2]


def tenant_group(schema_name: str) -> str:
    return f"tenant.{schema_name}.events"


def member_group(schema_name: str, membership_id: int) -> str:
    """The sockets of one member of the tenant (events addressed to them only, such as their notices)."""
    return f"tenant.{schema_name}.member.{membership_id}"


def channel_send(*, schema_name: str, event: dict[str, Any], membership_id: int | None = None) -> None:
    """Push ``event`` to every websocket of the tenant now (or of one member of it, ``membership_id``);
    PublishError if the layer cannot take it."""
    group = tenant_group(schema_name) if membership_id is None else member_group(schema_name, membership_id)
    try:
        loop, layer = _publisher_loop()
        message = {"type": "domain.event", "event": event}
        future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)
        future.result(timeout=PUBLISH_TIMEOUT_SECONDS)
    except Exception as exc:  # the layer raises Redis's, asyncio's and its own errors; all mean "not sent"
        raise PublishError(f"{type(exc).__name__}: {exc}") from exc
