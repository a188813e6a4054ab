"""Outbox events addressed to one member go to that member's sockets only; event types that start work
(``AURUM_EVENT_TASKS``) send their tasks in the event's tenant schema when relayed, and a broker that cannot
take them leaves the event due (retried with backoff), so the work is started at least once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import kombu.exceptions
from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import channel_layers

from aurum.events import outbox
from aurum.events.channel import member_group, tenant_group
from aurum.events.models import OutboxEvent
from aurum.events.publish import event_publish_on_commit


def _subscribe(groups: list[str], timeout: float = 2.0) -> Callable[[], dict[str, list[dict[str, Any]]]]:
    """Subscribe one channel to each of ``groups`` now; the function returned collects what each received."""
    loop = asyncio.new_event_loop()
    layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
    channels = {}
    for group in groups:
        channels[group] = loop.run_until_complete(layer.new_channel())
        loop.run_until_complete(layer.group_add(group, channels[group]))

    def collect() -> dict[str, list[dict[str, Any]]]:
        seen: dict[str, list[dict[str, Any]]] = {group: [] for group in groups}
        for group, channel in channels.items():
            try:
                while True:
                    message = loop.run_until_complete(asyncio.wait_for(layer.receive(channel), timeout))
                    seen[group].append(message["event"])
            except TimeoutError:
                pass
        loop.close()
        return seen

    return collect


def test_an_event_for_one_member_reaches_that_member_s_group_only(world, django_capture_on_commit_callbacks):
    member, other = world.acme.members["analyst"].membership_id, world.acme.members["viewer"].membership_id
    collect = _subscribe([member_group("acme", member), member_group("acme", other), tenant_group("acme")])

    with django_capture_on_commit_callbacks(execute=True):
        event_publish_on_commit(
            schema_name="acme", event_type="test.mine", payload={"n": 1}, membership_id=member
        )

    seen = collect()
    row = OutboxEvent.objects.get(event_type="test.mine")
    assert [event["id"] for event in seen[member_group("acme", member)]] == [str(row.event_id)]
    assert seen[member_group("acme", other)] == []
    assert seen[tenant_group("acme")] == []
    assert row.membership_id == member and row.relayed_at is not None


def test_an_event_that_starts_work_sends_its_tasks_in_the_tenant_schema(world, settings, monkeypatch):
    settings.AURUM_EVENT_TASKS = {"test.kick": ("tests.kicked",)}
    sent: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(
        outbox.celery_app, "send_task", lambda name, args, headers: sent.append((name, args, headers))
    )
    row = OutboxEvent.objects.create(
        tenant_schema="acme", event_type="test.kick", payload={"day": "2025-07-03"}
    )

    result = outbox.outbox_relay(ids=[row.pk])

    row.refresh_from_db()
    assert result.relayed == 1 and row.relayed_at is not None
    assert sent == [("tests.kicked", (str(row.event_id), {"day": "2025-07-03"}), {"_schema_name": "acme"})]


def test_a_broker_that_refuses_the_task_leaves_the_event_due(world, settings, monkeypatch):
    settings.AURUM_EVENT_TASKS = {"test.kick": ("tests.kicked",)}

    def refuse(name: str, args: Any, headers: Any) -> None:
        raise kombu.exceptions.OperationalError("broker down")

    monkeypatch.setattr(outbox.celery_app, "send_task", refuse)
    row = OutboxEvent.objects.create(tenant_schema="acme", event_type="test.kick", payload={})

    result = outbox.outbox_relay(ids=[row.pk])

    row.refresh_from_db()
    assert (result.relayed, result.failed) == (0, 1)
    assert row.relayed_at is None and row.attempts == 1
    assert "tests.kicked not sent" in row.last_error and "broker down" in row.last_error
    assert row.available_at > row.occurred_at


def test_a_completed_ingest_starts_the_watchlist_fan_out(settings):
    assert "watchlists.vintage_published" in settings.AURUM_EVENT_TASKS["ingestion.completed"]
