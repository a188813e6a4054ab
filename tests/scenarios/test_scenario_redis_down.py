"""Issue 9 item 8: a committed write never answers 500 because Redis is down. With Redis (cache, rate-limit
buckets, channel layer and Celery broker alike) stopped, creating a scenario and submitting a run both answer
2xx and commit; their domain events wait in the outbox and arrive, with their ids, once Redis is back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import channel_layers
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.scenarios.models import Scenario, ScenarioRun
from aurum.celery import app
from aurum.devstack.services import RedisServer, free_port
from aurum.events.channel import tenant_group
from aurum.events.models import OutboxEvent
from aurum.events.outbox import outbox_relay
from tests.support.scenarios import POLICY

pytestmark = pytest.mark.live


@pytest.fixture
def all_redis_on(settings: Any, tmp_path: Any) -> Iterator[RedisServer]:
    """Every use of Redis by this process (cache, buckets, versions, channel layer, Celery's broker) on a
    Redis of the test's own, which the test may stop and start."""
    server = RedisServer(tmp_path / "redis", free_port())
    server.start()
    settings.REDIS_URL = server.url
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": server.url},
    }
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [server.url]}}
    }
    broker = app.conf.broker_url

    def broker_to(url: str) -> None:
        app.conf.broker_url = url
        app._pool = None  # producer pools are built from the URL on next use
        app.amqp._producer_pool = None

    broker_to(server.url)
    yield server
    broker_to(broker)
    server.stop()


def _receive_all(server_url: str, schema: str, relay: Any, timeout: float = 3.0) -> list[dict[str, Any]]:
    """Subscribe to the tenant's stream on ``server_url``, run ``relay``, and collect what arrives."""
    loop = asyncio.new_event_loop()
    layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
    try:
        channel = loop.run_until_complete(layer.new_channel())
        loop.run_until_complete(layer.group_add(tenant_group(schema), channel))
        relay()
        seen: list[dict[str, Any]] = []
        while True:
            try:
                message = loop.run_until_complete(asyncio.wait_for(layer.receive(channel), timeout))
            except TimeoutError:
                return seen
            seen.append(message["event"])
            timeout = 0.5
    finally:
        loop.close()


def test_with_redis_down_create_and_submit_answer_2xx_and_the_events_arrive_later(
    acme_live, committed_world, api, all_redis_on
):
    tenant, created = acme_live
    started = OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    all_redis_on.stop()

    made = api.post(
        "/api/v2/scenarios",
        {"name": "Redis is down", "assumptions": [POLICY], "curve_filter": {"iso": "EU"}},
        format="json",
        **committed_world.acme.auth("trader"),
    )
    with schema_context("acme"):
        created.append(Scenario.objects.get(name="Redis is down"))
    submitted = api.post(
        f"/api/v2/scenarios/{made.json()['data']['id']}/runs",
        {"seed": 11},
        format="json",
        **committed_world.acme.auth("trader"),
    )
    with schema_context("acme"):
        run = ScenarioRun.objects.get(scenario=created[0])
    waiting = list(OutboxEvent.objects.filter(pk__gt=started, tenant_schema="acme"))

    assert (made.status_code, submitted.status_code) == (201, 201), (made.content, submitted.content)
    assert submitted.json()["data"]["id"] == str(run.pk)  # committed
    assert [e.event_type for e in waiting] == ["scenario.run.queued"]
    assert waiting[0].relayed_at is None and waiting[0].attempts >= 1  # the relay after commit failed

    all_redis_on.start()  # same port: Redis is back
    OutboxEvent.objects.filter(pk=waiting[0].pk).update(available_at=timezone.now() - timedelta(seconds=1))
    try:
        seen = _receive_all(all_redis_on.url, "acme", outbox_relay)
    finally:
        OutboxEvent.objects.filter(pk__gt=started).delete()

    mine = [e for e in seen if e.get("id") == str(waiting[0].event_id)]
    assert len(mine) == 1
    assert mine[0]["type"] == "scenario.run.queued"
    assert mine[0]["data"]["run_id"] == str(run.pk)
