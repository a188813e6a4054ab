"""/api/v2/webhooks: create (secret shown once), list, get, change, delete, rotate; URL safety checks;
permissions (admins only; a token needs the webhooks:manage scope)."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from apps.accounts.models import Membership
from apps.accounts.services import api_token_create
from apps.webhooks import outbound
from apps.webhooks.models import WebhookEndpoint

EVENTS = ["ingestion.completed", "scenario.run.succeeded"]


def _count() -> int:
    with schema_context("acme"):
        return WebhookEndpoint.objects.count()


def test_create_list_get_update_delete(world, api, endpoint_create):
    auth = world.acme.auth("admin")
    created = endpoint_create("http://127.0.0.1:9/hook", EVENTS, description="Risk")
    listed = api.get("/api/v2/webhooks", **auth)
    got = api.get(f"/api/v2/webhooks/{created['id']}", **auth)
    patched = api.patch(
        f"/api/v2/webhooks/{created['id']}",
        {"events": ["scenario.run.failed", "scenario.run.succeeded"], "description": "Risk 2"},
        format="json",
        **auth,
    )
    paused = api.patch(f"/api/v2/webhooks/{created['id']}", {"enabled": False}, format="json", **auth)
    deleted = api.delete(f"/api/v2/webhooks/{created['id']}", **auth)
    gone = api.get(f"/api/v2/webhooks/{created['id']}", **auth)

    assert created["secret"].startswith("whsec_") and len(created["secret"]) == 6 + 44
    assert (created["url"], created["events"], created["description"], created["enabled"]) == (
        "http://127.0.0.1:9/hook",
        EVENTS,
        "Risk",
        True,
    )
    assert created["last_sequence"] == 0
    assert [item["id"] for item in listed.json()["data"]] == [created["id"]]
    assert "secret" not in listed.json()["data"][0] and "secret" not in got.json()["data"]
    assert created["secret"] not in listed.content.decode() + got.content.decode()
    assert patched.status_code == 200, patched.content
    assert (patched.json()["data"]["events"], patched.json()["data"]["description"]) == (
        ["scenario.run.succeeded", "scenario.run.failed"],
        "Risk 2",
    )
    assert (paused.json()["data"]["enabled"], paused.json()["data"]["disabled_reason"]) == (
        False,
        "Paused by a member.",
    )
    assert deleted.status_code == 204
    assert gone.status_code == 404 and _count() == 0


def test_unknown_events_fields_and_ids_are_refused(world, api):
    auth = world.acme.auth("admin")
    bad_event = api.post(
        "/api/v2/webhooks", {"url": "http://127.0.0.1:9/", "events": ["run.done"]}, format="json", **auth
    )
    no_events = api.post(
        "/api/v2/webhooks", {"url": "http://127.0.0.1:9/", "events": []}, format="json", **auth
    )
    extra = api.post(
        "/api/v2/webhooks",
        {"url": "http://127.0.0.1:9/", "events": EVENTS, "secret": "x"},
        format="json",
        **auth,
    )
    malformed = api.get("/api/v2/webhooks/not-a-uuid", **auth)

    assert (bad_event.status_code, no_events.status_code, extra.status_code) == (400, 400, 400)
    assert malformed.status_code == 404
    assert _count() == 0


def test_https_and_public_addresses_are_required_unless_allowed(world, api, settings, monkeypatch):
    settings.AURUM_WEBHOOK_ALLOW_PRIVATE = False
    settings.AURUM_WEBHOOK_ALLOW_HTTP = False
    auth = world.acme.auth("admin")
    resolved = {"hooks.example.com": ["93.184.215.14"], "internal.example.com": ["10.1.2.3"]}
    monkeypatch.setattr(outbound, "webhook_resolve", lambda host, port: resolved.get(host, [host]))

    def create(url: str):
        return api.post("/api/v2/webhooks", {"url": url, "events": EVENTS}, format="json", **auth)

    plain = create("http://hooks.example.com/hook")
    loopback = create("https://127.0.0.1/hook")
    private = create("https://internal.example.com/hook")
    metadata = create("https://169.254.169.254/latest")
    ok = create("https://hooks.example.com/hook")

    assert plain.status_code == 400 and plain.json()["errors"][0]["code"] == "https_required"
    for refused, why in (
        (loopback, "127.0.0.1 is a loopback address"),
        (private, "10.1.2.3 is a private address"),
        (metadata, "169.254.169.254 is a cloud metadata address"),
    ):
        assert refused.status_code == 400, refused.content
        error = refused.json()["errors"][0]
        assert (error["field"], error["code"]) == ("url", "address_not_allowed")
        assert why in error["message"]
    assert ok.status_code == 201
    assert _count() == 1


def test_rotate_returns_a_new_secret_once_and_keeps_the_old_for_a_day(world, api, endpoint_create):
    auth = world.acme.auth("admin")
    created = endpoint_create("http://127.0.0.1:9/hook")

    rotated = api.post(f"/api/v2/webhooks/{created['id']}/rotate-secret", **auth)
    got = api.get(f"/api/v2/webhooks/{created['id']}", **auth)

    data = rotated.json()["data"]
    assert rotated.status_code == 200
    assert data["secret"].startswith("whsec_") and data["secret"] != created["secret"]
    assert data["previous_secret_expires_at"] is not None
    assert "secret" not in got.json()["data"]
    with schema_context("acme"):
        endpoint = WebhookEndpoint.objects.get(pk=created["id"])
        assert endpoint.active_secrets() == [data["secret"], created["secret"]]


@pytest.mark.parametrize("role", ["analyst", "trader", "viewer"])
def test_only_admins_manage_webhooks(world, api, role):
    auth = world.acme.auth(role)

    listed = api.get("/api/v2/webhooks", **auth)
    created = api.post(
        "/api/v2/webhooks", {"url": "http://127.0.0.1:9/", "events": EVENTS}, format="json", **auth
    )

    assert (listed.status_code, created.status_code) == (403, 403)
    assert _count() == 0


def test_a_token_without_the_webhooks_scope_is_refused(world, api):
    admin = Membership.objects.get(pk=world.acme.members["admin"].membership_id)
    _, scoped = api_token_create(membership=admin, name="curves only", scopes=["curves:read"])
    _, allowed = api_token_create(membership=admin, name="hooks", scopes=["webhooks:manage"])

    refused = api.get("/api/v2/webhooks", HTTP_AUTHORIZATION=f"Bearer {scoped}")
    granted = api.get("/api/v2/webhooks", HTTP_AUTHORIZATION=f"Bearer {allowed}")

    assert (refused.status_code, granted.status_code) == (403, 200)


def test_metadata_addresses_are_refused_even_where_private_receivers_are_allowed(world, api, settings):
    settings.AURUM_WEBHOOK_ALLOW_PRIVATE = True  # as in the tests and the demo: loopback receivers are fine
    auth = world.acme.auth("admin")

    answers = {
        url: api.post("/api/v2/webhooks", {"url": url, "events": EVENTS}, format="json", **auth)
        for url in ("http://169.254.169.254/latest", "http://[fd00:ec2::254]/", "http://100.100.100.200/")
    }
    loopback = api.post(
        "/api/v2/webhooks", {"url": "http://127.0.0.1:9/", "events": EVENTS}, format="json", **auth
    )

    assert {url: answer.status_code for url, answer in answers.items()} == dict.fromkeys(answers, 400)
    assert all("cloud metadata address" in a.json()["errors"][0]["message"] for a in answers.values())
    assert loopback.status_code == 201
