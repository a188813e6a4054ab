"""The transactional outbox: an event is recorded with its change, relayed after commit, retried while Redis
is down, never sent for a rolled-back change and never sent twice at once by two relays."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import channel_layers
from django.db import transaction
from django.utils import timezone

from aurum.devstack.services import RedisServer, free_port
from aurum.events.channel import tenant_group
from aurum.events.models import OutboxEvent
from aurum.events.outbox import outbox_relay
from aurum.events.publish import event_publish_on_commit
from tests.support.world import database_url


class Subscriber:
    """A channel-layer client subscribed to one tenant's event group."""

    def __init__(self, schema: str) -> None:
        # Its own loop for every call: the layer's receive buffers are bound to the loop that made them.
        self.loop = asyncio.new_event_loop()
        self.layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
        self.channel = self.loop.run_until_complete(self.layer.new_channel())
        self.loop.run_until_complete(self.layer.group_add(tenant_group(schema), self.channel))

    def next(self, timeout: float = 3.0) -> dict[str, Any] | None:
        try:
            return dict(
                self.loop.run_until_complete(asyncio.wait_for(self.layer.receive(self.channel), timeout))
            )
        except TimeoutError:
            return None

    def close(self) -> None:
        self.loop.close()  # channels_redis closes this loop's connections as the loop closes


@pytest.fixture
def subscribe() -> Iterator[Any]:
    made: list[Subscriber] = []

    def _subscribe(schema: str) -> Subscriber:
        made.append(Subscriber(schema))
        return made[-1]

    yield _subscribe
    for subscriber in made:
        subscriber.close()


@pytest.fixture
def layer_on(settings: Any) -> Any:
    """Point the channel layer (the relay's and the subscribers') at another Redis URL."""

    def _point(url: str) -> None:
        settings.CHANNEL_LAYERS = {
            "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [url]}}
        }

    return _point


@pytest.fixture
def own_redis(tmp_path: Any) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis", free_port())
    server.start()
    yield server
    server.stop()


def test_a_committed_event_is_relayed_at_once_with_its_id(
    world, subscribe, django_capture_on_commit_callbacks
):
    subscriber = subscribe("acme")

    with django_capture_on_commit_callbacks(execute=True):
        event_publish_on_commit(schema_name="acme", event_type="test.done", payload={"n": 1})

    row = OutboxEvent.objects.get(event_type="test.done")
    message = subscriber.next()
    assert message is not None
    assert message["event"] == {
        "id": str(row.event_id),
        "type": "test.done",
        "tenant": "acme",
        "at": row.occurred_at.isoformat(),
        "data": {"n": 1},
    }
    assert row.relayed_at is not None and row.attempts == 0


def test_a_rolled_back_change_records_no_event(world):
    with pytest.raises(RuntimeError), transaction.atomic():
        event_publish_on_commit(schema_name="acme", event_type="test.never", payload={})
        raise RuntimeError("the change fails")

    assert not OutboxEvent.objects.filter(event_type="test.never").exists()


def test_with_redis_down_the_change_commits_and_the_event_arrives_once_redis_is_back(
    world, layer_on, own_redis, subscribe, django_capture_on_commit_callbacks
):
    layer_on(own_redis.url)
    own_redis.stop()

    with django_capture_on_commit_callbacks(execute=True):  # the relay after commit fails: nothing raises
        event_publish_on_commit(schema_name="acme", event_type="test.later", payload={"n": 2})

    row = OutboxEvent.objects.get(event_type="test.later")
    assert (row.relayed_at, row.attempts) == (None, 1)
    assert row.available_at > timezone.now()  # backing off
    assert row.last_error

    own_redis.start()  # same port: Redis is back
    subscriber = subscribe("acme")
    assert outbox_relay().relayed == 0  # not due yet: the backoff holds
    OutboxEvent.objects.filter(pk=row.pk).update(available_at=timezone.now() - timedelta(seconds=1))

    result = outbox_relay()

    message = subscriber.next()
    assert result.relayed >= 1
    assert message is not None
    assert (message["event"]["id"], message["event"]["data"]) == (str(row.event_id), {"n": 2})
    row.refresh_from_db()
    assert row.relayed_at is not None


def test_failures_keep_the_order_and_back_off_each_time(world, layer_on, own_redis, subscribe):
    layer_on(own_redis.url)
    own_redis.stop()
    first = OutboxEvent.objects.create(tenant_schema="acme", event_type="test.a", payload={})
    second = OutboxEvent.objects.create(tenant_schema="acme", event_type="test.b", payload={})

    outbox_relay(ids=[first.pk, second.pk])
    OutboxEvent.objects.filter(pk__in=[first.pk, second.pk]).update(available_at=timezone.now())
    outbox_relay(ids=[first.pk, second.pk])

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.attempts, second.attempts) == (2, 2)
    assert first.available_at - timezone.now() > timedelta(seconds=2)  # the second backoff is longer
    own_redis.start()
    subscriber = subscribe("acme")
    outbox_relay(ids=[first.pk, second.pk])
    received = [subscriber.next(), subscriber.next()]
    assert [m["event"]["type"] for m in received if m] == ["test.a", "test.b"]


def test_a_row_claimed_by_another_relay_is_not_sent_twice(committed_world, subscribe):
    event = OutboxEvent.objects.create(tenant_schema="acme", event_type="test.claimed", payload={})
    subscriber = subscribe("acme")
    try:
        with psycopg.connect(database_url().replace("postgres://", "postgresql://")) as other:
            # Another relay holds the row (it is sending it right now).
            other.execute("SELECT id FROM events_outboxevent WHERE id = %s FOR UPDATE", [event.pk])
            while_held = outbox_relay(ids=[event.pk])
            nothing = subscriber.next(timeout=0.5)
        after = outbox_relay(ids=[event.pk])
        received = subscriber.next()
    finally:
        OutboxEvent.objects.filter(pk=event.pk).delete()

    assert (while_held.relayed, while_held.failed, nothing) == (0, 0, None)
    assert after.relayed == 1 and received is not None
    assert received["event"]["id"] == str(event.event_id)


def test_the_events_of_one_transaction_are_relayed_together_in_one_relay(
    world, subscribe, django_capture_on_commit_callbacks, django_assert_num_queries
):
    subscriber = subscribe("acme")
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        for n in range(3):
            event_publish_on_commit(schema_name="acme", event_type="test.together", payload={"n": n})

    # One relay: its savepoint, the claim of the three rows, their mark, the release (not three relays).
    with django_assert_num_queries(4):
        for callback in callbacks:
            callback()

    received = [subscriber.next() for _ in range(3)]
    assert [m["event"]["data"]["n"] for m in received if m] == [0, 1, 2]
    assert not OutboxEvent.objects.filter(event_type="test.together", relayed_at__isnull=True).exists()


def test_an_event_of_a_rolled_back_savepoint_is_never_relayed_and_the_others_are(
    world, subscribe, django_capture_on_commit_callbacks
):
    subscriber = subscribe("acme")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event_publish_on_commit(schema_name="acme", event_type="test.kept", payload={"n": 1})
        with pytest.raises(RuntimeError), transaction.atomic():
            event_publish_on_commit(schema_name="acme", event_type="test.undone", payload={"n": 2})
            raise RuntimeError("the inner change fails")
        event_publish_on_commit(schema_name="acme", event_type="test.kept", payload={"n": 3})

    received = [subscriber.next(), subscriber.next(), subscriber.next(timeout=0.5)]
    assert [(m["event"]["type"], m["event"]["data"]["n"]) for m in received if m] == [
        ("test.kept", 1),
        ("test.kept", 3),
    ]
    assert not OutboxEvent.objects.filter(event_type="test.undone").exists()
    assert OutboxEvent.objects.filter(event_type="test.kept", relayed_at__isnull=False).count() == 2
