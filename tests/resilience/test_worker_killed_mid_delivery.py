"""Drill: a Celery worker killed in the middle of a webhook delivery (its request sent, no answer yet).

After a new worker starts, the beat's sweep delivers the message once the dead worker's lease on the endpoint
has passed: the receiver gets it again with the same ``webhook-id`` (Standard Webhooks receivers deduplicate
on it), the message ends delivered with exactly one successful attempt, and nothing stays leased or
in flight. The lease is what a dead worker costs: its messages' timeouts plus
AURUM_WEBHOOK_LEASE_SLACK_SECONDS.
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookMessage
from apps.webhooks.services.delivery import webhook_sweep_dispatch
from tests.support.scenarios import wait_for
from tests.support.webhooks import Answer, Receiver
from tests.support.workers import queue_worker

pytestmark = [pytest.mark.live, pytest.mark.drill, pytest.mark.slow, pytest.mark.timeout(600)]
SLACK = "2"  # seconds: the lease is 20 messages x AURUM_WEBHOOK_TIMEOUT_SECONDS (2) + connect (1) + this


def test_a_delivery_whose_worker_is_killed_mid_request_is_delivered_once_after_restart(
    committed_world, api, settings
):
    queue = f"drill-webhooks-{secrets.token_hex(3)}"
    settings.AURUM_WEBHOOK_QUEUE = queue  # where this process (the API's ping, the sweep) sends deliveries
    auth = committed_world.acme.auth("admin")
    with Receiver(Answer(hang_seconds=1.8)) as receiver:
        created = api.post(
            "/api/v2/webhooks",
            {"url": receiver.url, "events": ["scenario.run.succeeded"]},
            format="json",
            **auth,
        )
        assert created.status_code == 201, created.content
        endpoint_id = created.json()["data"]["id"]
        try:
            with queue_worker(queue, AURUM_WEBHOOK_LEASE_SLACK_SECONDS=SLACK) as doomed:
                assert api.post(f"/api/v2/webhooks/{endpoint_id}/ping", **auth).status_code == 202
                wait_for(lambda: len(receiver.received) == 1, 60, "the doomed worker's request")
                doomed.kill()  # SIGKILL while it waits for the answer: no attempt recorded, lease held
                doomed.wait(timeout=10)
            with schema_context("acme"):
                stuck = WebhookMessage.objects.get(endpoint_id=endpoint_id)
                leased_until = WebhookEndpoint.objects.get(pk=endpoint_id).lease_until
                attempts_while_dead = WebhookDelivery.objects.filter(message=stuck).count()

            with queue_worker(queue, AURUM_WEBHOOK_LEASE_SLACK_SECONDS=SLACK):
                deadline = time.monotonic() + 120
                while len(receiver.received) < 2 and time.monotonic() < deadline:
                    webhook_sweep_dispatch()  # what beat does every 5 s
                    time.sleep(1)
                with schema_context("acme"):
                    wait_for(
                        lambda: WebhookMessage.objects.get(pk=stuck.pk).state == "succeeded",
                        30,
                        "the delivery",
                    )
                    message = WebhookMessage.objects.get(pk=stuck.pk)
                    attempts = list(
                        WebhookDelivery.objects.filter(message=message).values_list("outcome", flat=True)
                    )
                    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
                    in_flight = WebhookMessage.objects.filter(
                        endpoint_id=endpoint_id, state__in=["pending", "delivering"]
                    ).count()
        finally:
            with schema_context("acme"):
                WebhookEndpoint.objects.filter(pk=endpoint_id).delete()

    assert stuck.state == "delivering" and attempts_while_dead == 0
    assert leased_until is not None and leased_until > timezone.now() - timedelta(seconds=60)
    first, second = receiver.received[:2]
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == message.webhook_id
    assert len(receiver.received) == 2
    assert message.state == "succeeded" and message.delivered_at is not None
    assert attempts == ["succeeded"]
    assert endpoint.lease_until is None and in_flight == 0
