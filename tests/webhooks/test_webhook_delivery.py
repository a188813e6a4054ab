"""Fan-out from the outbox and signed delivery to real receivers on loopback: verified with the
``standardwebhooks`` package; retries (Retry-After), final 4xx, disabling after a failure run, SSRF refusal
at send time, rotation overlap, a repeat event, member-addressed events, and a hanging receiver that does not
delay another endpoint."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from django.core import mail
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.webhooks import outbound
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookMessage
from apps.webhooks.services.delivery import webhook_deliver_due
from apps.webhooks.services.messages import webhook_event_fanout
from aurum.events.models import OutboxEvent
from aurum.events.outbox import outbox_append
from tests.support.webhooks import Answer, Receiver, verified

SUCCEEDED = "scenario.run.succeeded"
RUN = {"run_id": "7b1c9f2e-0000-4000-8000-00000000c001", "scenario_id": "s-1", "status": "succeeded"}


def _event(event_type: str = SUCCEEDED, payload: dict | None = None, membership_id: int | None = None) -> str:
    event = outbox_append(
        schema_name="acme", event_type=event_type, payload=payload or RUN, membership_id=membership_id
    )
    return str(event.event_id)


def _fanout(event_id: str) -> list[WebhookMessage]:
    with schema_context("acme"):
        return webhook_event_fanout(event_id=event_id)


def _deliver():
    with schema_context("acme"):
        return webhook_deliver_due()


def _message(endpoint_id: str, sequence: int = 1) -> WebhookMessage:
    with schema_context("acme"):
        return WebhookMessage.objects.get(endpoint_id=UUID(endpoint_id), sequence=sequence)


def _make_due(endpoint_id: str) -> None:
    with schema_context("acme"):
        WebhookMessage.objects.filter(endpoint_id=UUID(endpoint_id)).update(next_attempt_at=timezone.now())


def test_an_event_is_delivered_signed_with_its_sequence(world, endpoint_create):
    with Receiver() as receiver:
        endpoint = endpoint_create(receiver.url)
        event_id = _event()
        messages = _fanout(event_id)
        tally = _deliver()

    assert (len(messages), tally.succeeded) == (1, 1)
    [received] = receiver.received
    body = verified(endpoint["secret"], received)
    assert body == {
        "id": event_id,
        "type": SUCCEEDED,
        "tenant": "acme",
        "occurred_at": body["occurred_at"],
        "sequence": 1,
        "data": {**RUN, "url": f"/api/v2/scenario-runs/{RUN['run_id']}"},
    }
    assert received.headers["webhook-id"] == messages[0].webhook_id
    assert received.headers["content-type"] == "application/json"
    message = _message(endpoint["id"])
    assert (message.state, message.attempts, message.last_status_code) == ("succeeded", 1, 200)
    with schema_context("acme"):
        [attempt] = WebhookDelivery.objects.filter(endpoint_id=endpoint["id"])
    assert (attempt.attempt, attempt.outcome, attempt.status_code, attempt.response_body) == (
        1,
        "succeeded",
        200,
        "ok",
    )


def test_an_event_relayed_twice_is_one_message_and_sequences_count_per_endpoint(world, endpoint_create):
    first = endpoint_create("http://127.0.0.1:9/a")
    second = endpoint_create("http://127.0.0.1:9/b", [SUCCEEDED, "scenario.run.failed"])
    one = _event()

    created = _fanout(one)
    repeated = _fanout(one)
    failed = _fanout(_event("scenario.run.failed"))

    assert [(str(m.endpoint_id), m.sequence) for m in created] == sorted(
        [(first["id"], 1), (second["id"], 1)]
    )
    assert repeated == []
    assert [(str(m.endpoint_id), m.sequence) for m in failed] == [(second["id"], 2)]
    with schema_context("acme"):
        assert WebhookMessage.objects.filter(event_id=one).count() == 2


def test_member_addressed_unsubscribed_and_other_tenant_events_are_not_delivered(world, endpoint_create):
    endpoint_create("http://127.0.0.1:9/a")
    admin = world.acme.members["admin"].membership_id

    notice = _fanout(_event(SUCCEEDED, membership_id=admin))
    unsubscribed = _fanout(_event("ingestion.completed", {"run_id": 1}))
    globex_event = str(outbox_append(schema_name="globex", event_type=SUCCEEDED, payload=RUN).event_id)
    crossed = _fanout(globex_event)

    assert (notice, unsubscribed, crossed) == ([], [], [])
    with schema_context("acme"):
        assert WebhookMessage.objects.count() == 0


def test_500_with_retry_after_is_retried_then_delivered(world, endpoint_create):
    with Receiver(Answer(status=503, headers={"Retry-After": "120"}, body="busy")) as receiver:
        endpoint = endpoint_create(receiver.url)
        _fanout(_event())
        before = timezone.now()
        first = _deliver()
        waiting = _message(endpoint["id"])
        not_yet = _deliver()
        _make_due(endpoint["id"])
        second = _deliver()

    assert (first.retrying, not_yet.endpoints, second.succeeded) == (1, 0, 1)
    assert waiting.state == "pending" and waiting.attempts == 1
    assert (
        before + timedelta(seconds=119) <= waiting.next_attempt_at <= timezone.now() + timedelta(seconds=121)
    )
    assert len(receiver.received) == 2
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]
    with schema_context("acme"):
        attempts = list(WebhookDelivery.objects.filter(endpoint_id=endpoint["id"]).order_by("attempt"))
    assert [(a.attempt, a.outcome, a.status_code, a.response_body) for a in attempts] == [
        (1, "retry", 503, "busy"),
        (2, "succeeded", 200, "ok"),
    ]
    assert attempts[0].response_headers["retry-after"] == "120"
    assert _message(endpoint["id"]).state == "succeeded"


def test_a_4xx_is_final(world, endpoint_create):
    with Receiver(Answer(status=410, body="gone")) as receiver:
        endpoint = endpoint_create(receiver.url)
        _fanout(_event())
        tally = _deliver()
        _make_due(endpoint["id"])
        again = _deliver()

    message = _message(endpoint["id"])
    assert (tally.failed, again.endpoints, len(receiver.received)) == (1, 0, 1)
    assert (message.state, message.attempts, message.last_status_code) == ("failed", 1, 410)


def test_a_long_failure_run_disables_the_endpoint_and_tells_the_admins(
    world, endpoint_create, settings, django_capture_on_commit_callbacks
):
    settings.AURUM_WEBHOOK_DISABLE_AFTER_FAILURES = 3
    settings.AURUM_WEBHOOK_DISABLE_AFTER_HOURS = 24
    with Receiver(default=Answer(status=500)) as receiver:
        endpoint = endpoint_create(receiver.url)
        _fanout(_event())
        for _ in range(3):
            _make_due(endpoint["id"])
            _deliver()
        still_enabled = _endpoint(endpoint["id"])
        with schema_context("acme"):  # the run of failures began more than a day ago
            WebhookEndpoint.objects.filter(pk=endpoint["id"]).update(
                failing_since=timezone.now() - timedelta(hours=25)
            )
        _make_due(endpoint["id"])
        with django_capture_on_commit_callbacks(execute=True):
            tally = _deliver()
        _make_due(endpoint["id"])
        after = _deliver()

    disabled = _endpoint(endpoint["id"])
    assert still_enabled.is_enabled and still_enabled.consecutive_failures == 3
    assert tally.disabled == [endpoint["id"]] and after.endpoints == 0
    assert len(receiver.received) == 4
    assert not disabled.is_enabled and disabled.disabled_reason.startswith("4 consecutive failed deliveries")
    event = OutboxEvent.objects.get(tenant_schema="acme", event_type="webhook.endpoint.disabled")
    assert (event.payload["endpoint_id"], event.payload["consecutive_failures"]) == (endpoint["id"], 4)
    [notice] = mail.outbox
    assert notice.to == [world.acme.members["admin"].email]
    assert receiver.url in notice.subject
    assert _message(endpoint["id"]).state == "pending"  # held for when it is enabled again


def _endpoint(endpoint_id: str) -> WebhookEndpoint:
    with schema_context("acme"):
        return WebhookEndpoint.objects.get(pk=endpoint_id)


def test_private_addresses_are_refused_at_send_time(world, endpoint_create, settings, monkeypatch):
    with Receiver() as receiver:
        loopback = endpoint_create(receiver.url)
        monkeypatch.setattr(outbound, "webhook_resolve", lambda host, port: ["93.184.215.14"])
        named = endpoint_create("http://hooks.example.com:9/hook")
        _fanout(_event())
        settings.AURUM_WEBHOOK_ALLOW_PRIVATE = False
        # The name resolved to a public address when created; now it points inside the network.
        monkeypatch.setattr(outbound, "webhook_resolve", lambda host, port: ["10.0.0.7"])
        _deliver()
        monkeypatch.undo()

    assert receiver.received == []
    for endpoint, why in ((loopback, "127.0.0.1"), (named, "10.0.0.7")):
        message = _message(endpoint["id"])
        assert message.state == "failed" and why in message.last_error
        assert "private" in message.last_error or "loopback" in message.last_error


def test_after_rotation_both_secrets_sign(world, api, endpoint_create):
    with Receiver() as receiver:
        endpoint = endpoint_create(receiver.url)
        rotated = api.post(f"/api/v2/webhooks/{endpoint['id']}/rotate-secret", **world.acme.auth("admin"))
        _fanout(_event())
        _deliver()

    [received] = receiver.received
    new_secret = rotated.json()["data"]["secret"]
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    assert verified(new_secret, received)["sequence"] == 1
    assert verified(endpoint["secret"], received)["sequence"] == 1


def test_a_hanging_receiver_does_not_delay_another_endpoint(world, endpoint_create):
    with Receiver(default=Answer(hang_seconds=30)) as slow, Receiver() as fast:
        hanging = endpoint_create(slow.url)
        quick = endpoint_create(fast.url)
        _fanout(_event())
        tally = _deliver()

    # One sweep: the quick endpoint got its message while the other hung (its attempt ended first).
    assert (tally.endpoints, tally.succeeded, tally.retrying) == (2, 1, 1)
    assert len(fast.received) == 1 and len(slow.received) == 1
    with schema_context("acme"):
        [quick_try] = WebhookDelivery.objects.filter(endpoint_id=quick["id"])
        [hung_try] = WebhookDelivery.objects.filter(endpoint_id=hanging["id"])
    quick_end = quick_try.attempted_at + timedelta(milliseconds=quick_try.duration_ms)
    hung_end = hung_try.attempted_at + timedelta(milliseconds=hung_try.duration_ms)
    assert quick_end < hung_end
    assert _message(quick["id"]).state == "succeeded"
    stuck = _message(hanging["id"])
    assert stuck.state == "pending" and stuck.last_error.startswith("timeout")
