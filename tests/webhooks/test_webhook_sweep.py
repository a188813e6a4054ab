"""The beat's sweep sends one delivery task per tenant with messages due and delivers nothing itself, so a
tenant whose receiver hangs never holds up another tenant's deliveries; signing secrets are sealed at rest;
endpoint changes are in the tenant's audit ledger, without secrets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.audit.models import AuditEntry
from apps.webhooks.models import WebhookEndpoint, WebhookMessage
from apps.webhooks.services.delivery import webhook_due_exists, webhook_sweep_dispatch
from apps.webhooks.services.messages import webhook_event_fanout
from aurum.events.outbox import outbox_append
from tests.support.observability import scrape, value
from tests.support.webhooks import Answer, Receiver

SUCCEEDED = "scenario.run.succeeded"
RUN = {"run_id": "7b1c9f2e-0000-4000-8000-00000000c001", "scenario_id": "s-1", "status": "succeeded"}


def _endpoint(api: Any, tenant: Any, url: str) -> dict[str, Any]:
    answer = api.post(
        "/api/v2/webhooks", {"url": url, "events": [SUCCEEDED]}, format="json", **tenant.auth("admin")
    )
    assert answer.status_code == 201, answer.content
    return dict(answer.json()["data"])


def _due_message(schema: str) -> None:
    event = outbox_append(schema_name=schema, event_type=SUCCEEDED, payload=RUN)
    with schema_context(schema):
        assert len(webhook_event_fanout(event_id=str(event.event_id))) == 1
        WebhookMessage.objects.update(next_attempt_at=timezone.now())


def test_the_sweep_dispatches_each_tenant_with_messages_due_and_sends_nothing_itself(world, api):
    with Receiver(default=Answer(hang_seconds=30)) as hanging, Receiver() as fast:
        _endpoint(api, world.acme, hanging.url)
        _endpoint(api, world.globex, fast.url)
        with schema_context("acme"):
            nothing_due_yet = webhook_due_exists()
        _due_message("acme")
        _due_message("globex")

        dispatched = webhook_sweep_dispatch()
        contacted = (len(hanging.received), len(fast.received))

    assert nothing_due_yet is False
    assert [schema for schema in dispatched if schema in ("acme", "globex")] == ["acme", "globex"]
    assert contacted == (0, 0)  # delivery is the tasks' work, each tenant on its own worker slot


def test_a_tenant_without_messages_due_is_not_dispatched(world, api):
    with Receiver() as receiver:
        _endpoint(api, world.acme, receiver.url)
        _due_message("acme")
        with schema_context("acme"):
            WebhookMessage.objects.update(next_attempt_at=timezone.now() + timedelta(hours=1))

        dispatched = webhook_sweep_dispatch()

    assert "acme" not in dispatched


def test_signing_secrets_are_sealed_in_the_database(world, api):
    created = _endpoint(api, world.acme, "http://127.0.0.1:9/hook")
    rotated = api.post(f"/api/v2/webhooks/{created['id']}/rotate-secret", **world.acme.auth("admin")).json()[
        "data"
    ]

    with schema_context("acme"), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT secret, previous_secret FROM {WebhookEndpoint._meta.db_table} WHERE id = %s",
            [created["id"]],
        )
        stored = cursor.fetchone()
        endpoint = WebhookEndpoint.objects.get(pk=created["id"])

    assert created["secret"].startswith("whsec_") and rotated["secret"].startswith("whsec_")
    assert "whsec_" not in stored[0] and "whsec_" not in stored[1]
    assert (endpoint.secret, endpoint.previous_secret) == (rotated["secret"], created["secret"])


def test_endpoint_changes_are_in_the_audit_ledger_without_secrets(world, api):
    auth = world.acme.auth("admin")
    created = _endpoint(api, world.acme, "http://127.0.0.1:9/hook")
    path = f"/api/v2/webhooks/{created['id']}"
    api.patch(path, {"description": "prices"}, format="json", **auth)
    rotated = api.post(f"{path}/rotate-secret", **auth).json()["data"]
    api.delete(path, **auth)

    with schema_context("acme"):
        entries = list(
            AuditEntry.objects.filter(resource_type="webhook_endpoint", resource_id=created["id"]).order_by(
                "sequence"
            )
        )
    assert [entry.action for entry in entries] == [
        "webhook.create",
        "webhook.update",
        "webhook.rotate_secret",
        "webhook.delete",
    ]
    assert {entry.actor_kind for entry in entries} == {"token"}
    stored = " ".join(entry.changes for entry in entries)
    assert created["secret"] not in stored and rotated["secret"] not in stored


def test_every_subscribable_event_type_fans_out_to_webhooks(settings):
    from apps.webhooks.event_types import EVENT_TYPES

    fanned = {t for t, tasks in settings.AURUM_EVENT_TASKS.items() if "webhooks.event_fanout" in tasks}

    assert fanned == set(EVENT_TYPES)
    assert "quota.threshold" in fanned


def test_a_quota_threshold_event_reaches_a_subscribed_endpoint_linking_to_usage(world, api):
    answer = api.post(
        "/api/v2/webhooks",
        {"url": "http://127.0.0.1:9/hook", "events": ["quota.threshold"]},
        format="json",
        **world.acme.auth("admin"),
    )
    event = outbox_append(
        schema_name="acme",
        event_type="quota.threshold",
        payload={"metric": "api_requests", "threshold": 80, "limit": 1000, "used": 800},
    )
    with schema_context("acme"):
        [message] = webhook_event_fanout(event_id=str(event.event_id))

    assert answer.status_code == 201
    assert message.payload["type"] == "quota.threshold"
    assert message.payload["data"]["url"] == "/api/v2/usage"
    assert message.payload["data"]["threshold"] == 80


def test_the_backlog_gauge_counts_each_tenants_messages_waiting(world, api):
    before = scrape(api)
    with Receiver() as receiver:
        _endpoint(api, world.acme, receiver.url)
        _due_message("acme")
        during = scrape(api)

    assert (
        value(during, "aurum_webhook_backlog", tenant="acme")
        == value(before, "aurum_webhook_backlog", tenant="acme") + 1
    )
    assert value(during, "aurum_webhook_backlog", tenant="globex") == value(
        before, "aurum_webhook_backlog", tenant="globex"
    )
