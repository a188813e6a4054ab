"""/settings/webhooks/: admins list the tenant's endpoints with their last delivery, add one (the signing
secret shown once, then never), change its events, rotate its secret, ping it, enable it, delete it (after a
confirm step) and redeliver a message from its delivery log. Analysts get 403 and no link; another tenant's
endpoint is 404 on every route; errors stay next to their field with the form as it was sent."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.accounts.models import User
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookMessage
from apps.webhooks.services.delivery import webhook_deliver_due
from apps.webhooks.services.endpoints import webhook_endpoint_update
from tests.support.page_policy import assert_page_keeps_the_policy
from tests.support.webhooks import Answer, Receiver, verified

RUNS = "scenario.run.succeeded"
# A signed-in member's page costs 6 queries before the view's own (session, sign-in, tenant, membership); the
# list adds one (the endpoints, each with its newest attempt), an endpoint's page two (it, its attempts).
LIST_QUERIES = 7
DETAIL_QUERIES = 8


def _signed_in(world: Any, role: str = "admin", tenant: str = "acme") -> Client:
    tenant_world = getattr(world, tenant)
    client = Client(HTTP_HOST=tenant_world.host)
    client.force_login(User.objects.get(email=tenant_world.members[role].email))
    return client


def _endpoint(api: Any, world: Any, url: str, tenant: str = "acme", **extra: Any) -> dict[str, Any]:
    body = {"url": url, "events": [RUNS], **extra}
    created = api.post("/api/v2/webhooks", body, format="json", **getattr(world, tenant).auth("admin"))
    assert created.status_code == 201, created.content
    return dict(created.json()["data"])


def _deliver(schema: str = "acme") -> None:
    with schema_context(schema):
        webhook_deliver_due()


def _secret_in(html: str) -> str | None:
    found = re.search(r'<code id="new-secret">(whsec_[^<]+)</code>', html)
    return found.group(1) if found else None


def _endpoints(schema: str = "acme") -> list[tuple[str, str, list[str], bool]]:
    with schema_context(schema):
        return [
            (e.url, e.description, list(e.events), e.is_enabled)
            for e in WebhookEndpoint.objects.order_by("created_at")
        ]


def test_an_admin_sees_each_endpoint_with_its_last_delivery(world, api):
    client = _signed_in(world)
    with Receiver(Answer(status=204)) as receiver:
        endpoint = _endpoint(api, world, receiver.url, description="Risk system")
        assert client.post(f"/settings/webhooks/{endpoint['id']}/ping/").status_code == 302
        _deliver()
    quiet = _endpoint(api, world, "http://127.0.0.1:9/quiet", events=["curve.published", "ingestion.failed"])

    response = client.get("/settings/webhooks/")

    html = response.content.decode()
    assert response.status_code == 200
    assert_page_keeps_the_policy(response)
    rows = re.findall(r'<tr id="endpoint-([0-9a-f-]+)">(.*?)</tr>', html, flags=re.S)
    assert [row_id for row_id, _ in rows] == [endpoint["id"], quiet["id"]]
    first, second = (re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for _, row in rows)
    assert first.startswith(f"{receiver.url} Risk system {RUNS} enabled 204 ")
    assert first.endswith(" UTC 0")
    assert second == "http://127.0.0.1:9/quiet ingestion.failed curve.published enabled none yet 0"
    assert f'href="/settings/webhooks/{endpoint["id"]}/"' in html
    assert re.findall(r'name="events" value="([^"]+)"', html) == [
        "ingestion.completed",
        "ingestion.failed",
        "curve.published",
        "scenario.run.succeeded",
        "scenario.run.failed",
        "scenario.run.cancelled",
        "ppa.valuation.completed",
        "webhook.endpoint.disabled",
        "quota.threshold",
        "dataset.late",
        "dataset.recovered",
    ]
    assert 'href="/api/v2/docs/"' in html and "webhook-signature" in html


def test_analysts_get_403_and_no_link(world, api):
    endpoint = _endpoint(api, world, "http://127.0.0.1:9/hook")
    analyst = _signed_in(world, "analyst")

    answers = [
        analyst.get("/settings/webhooks/").status_code,
        analyst.get(f"/settings/webhooks/{endpoint['id']}/").status_code,
        analyst.post(
            "/settings/webhooks/create/", {"url": "http://127.0.0.1:9/x", "events": [RUNS]}
        ).status_code,
        analyst.post(f"/settings/webhooks/{endpoint['id']}/delete/").status_code,
        analyst.post(f"/settings/webhooks/{endpoint['id']}/rotate-secret/").status_code,
    ]

    assert answers == [403, 403, 403, 403, 403]
    assert _endpoints() == [("http://127.0.0.1:9/hook", "", [RUNS], True)]
    assert 'href="/settings/webhooks/"' not in analyst.get("/settings/").content.decode()
    admin_settings = _signed_in(world).get("/settings/").content.decode()
    admin_audit = _signed_in(world).get("/settings/audit/").content.decode()
    assert 'href="/settings/webhooks/"' in admin_settings and 'href="/settings/webhooks/"' in admin_audit


def test_adding_an_endpoint_shows_its_secret_once_and_that_secret_signs(world):
    client = _signed_in(world)
    with Receiver() as receiver:
        response = client.post(
            "/settings/webhooks/create/",
            {"url": receiver.url, "description": "Risk", "events": [RUNS, "ingestion.completed"]},
        )
        secret = _secret_in(response.content.decode())
        with schema_context("acme"):
            endpoint = WebhookEndpoint.objects.get()
        client.post(f"/settings/webhooks/{endpoint.pk}/ping/")
        _deliver()

    assert response.status_code == 201 and response["Cache-Control"] == "private, no-store"
    assert_page_keeps_the_policy(response)
    assert secret is not None and secret.startswith("whsec_")
    assert (endpoint.url, endpoint.description, endpoint.events, endpoint.created_by_membership_id) == (
        receiver.url,
        "Risk",
        ["ingestion.completed", RUNS],
        world.acme.members["admin"].membership_id,
    )
    [ping] = receiver.received
    assert verified(secret, ping)["type"] == "webhook.ping"
    for path in ("/settings/webhooks/", f"/settings/webhooks/{endpoint.pk}/"):
        later = client.get(path)
        assert later.status_code == 200 and secret not in later.content.decode()
        assert _secret_in(later.content.decode()) is None


def test_a_refused_address_is_shown_next_to_the_url_and_nothing_is_lost(world, settings):
    settings.AURUM_WEBHOOK_ALLOW_PRIVATE = False
    client = _signed_in(world)

    response = client.post(
        "/settings/webhooks/create/",
        {"url": "http://127.0.0.1:8080/hook", "description": "Local", "events": ["curve.published"]},
    )
    none_ticked = client.post("/settings/webhooks/create/", {"url": "https://hooks.example.com/a"})

    html = response.content.decode()
    assert response.status_code == 400
    assert (
        '<p class="error" id="id_url_error">Aurum does not deliver to private or internal addresses '
        "(127.0.0.1 is a loopback address).</p>" in html
    )
    assert 'value="http://127.0.0.1:8080/hook"' in html and 'value="Local"' in html
    assert re.findall(r'name="events" value="([^"]+)"[^>]*checked', html) == ["curve.published"]
    assert none_ticked.status_code == 400
    assert '<p class="error" id="id_events_error">Tick at least one event type.</p>' in (
        none_ticked.content.decode()
    )
    assert 'value="https://hooks.example.com/a"' in none_ticked.content.decode()
    assert _endpoints() == []


def test_changing_events_and_description_and_a_bad_change_that_changes_nothing(world, api):
    endpoint = _endpoint(api, world, "http://127.0.0.1:9/hook")
    client = _signed_in(world)
    path = f"/settings/webhooks/{endpoint['id']}/"

    saved = client.post(
        f"{path}edit/",
        {"url": "http://127.0.0.1:9/hook", "description": "Ops", "events": ["scenario.run.failed", RUNS]},
        follow=True,
    )
    refused = client.post(
        f"{path}edit/", {"url": "ftp://example.com/x", "description": "Changed", "events": [RUNS]}
    )

    assert "Saved: new events are sent with these settings." in saved.content.decode()
    assert refused.status_code == 400
    assert (
        '<p class="error" id="id_url_error">Give an absolute https:// URL, e.g. https://example.com/hooks.</p>'
        in refused.content.decode()
    )
    assert 'value="Changed"' in refused.content.decode()
    assert _endpoints() == [("http://127.0.0.1:9/hook", "Ops", [RUNS, "scenario.run.failed"], True)]


def test_rotating_shows_the_new_secret_once_and_the_old_one_signs_24_hours_more(world, api):
    endpoint = _endpoint(api, world, "http://127.0.0.1:9/hook")
    client = _signed_in(world)
    before = timezone.now()

    response = client.post(f"/settings/webhooks/{endpoint['id']}/rotate-secret/")
    after = timezone.now()

    html = response.content.decode()
    new = _secret_in(html)
    with schema_context("acme"):
        rotated = WebhookEndpoint.objects.get()
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    assert new is not None and new == rotated.secret and new != endpoint["secret"]
    assert rotated.previous_secret == endpoint["secret"]
    expires = rotated.previous_secret_expires_at
    assert expires is not None and before + timedelta(hours=24) <= expires <= after + timedelta(hours=24)
    assert "The old secret keeps signing too for 24 hours" in html
    assert new not in client.get(f"/settings/webhooks/{endpoint['id']}/").content.decode()


def test_a_disabled_endpoint_says_why_and_enabling_makes_its_held_messages_due(world, api):
    endpoint = _endpoint(api, world, "http://127.0.0.1:9/hook")
    client = _signed_in(world)
    path = f"/settings/webhooks/{endpoint['id']}/"
    with schema_context("acme"):
        webhook_endpoint_update(endpoint=WebhookEndpoint.objects.get(), enabled=False)
    client.post(f"{path}ping/")  # held while disabled

    disabled = client.get(path).content.decode()
    enabled = client.post(f"{path}enable/", follow=True).content.decode()

    assert "Paused by a member." in disabled and f'action="{path}enable/"' in disabled
    assert "Enabled: the messages it held are being delivered now." in enabled
    assert f'action="{path}enable/"' not in enabled
    with schema_context("acme"):
        [held] = WebhookMessage.objects.all()
        assert WebhookEndpoint.objects.get().is_enabled
    assert held.state == "pending" and held.next_attempt_at <= timezone.now()


def test_redeliver_sends_the_message_again_as_a_new_attempt(world, api):
    client = _signed_in(world)
    with Receiver(Answer(status=500, body="down for maintenance")) as receiver:
        endpoint = _endpoint(api, world, receiver.url)
        path = f"/settings/webhooks/{endpoint['id']}/"
        client.post(f"{path}ping/")
        _deliver()
        failed = client.get(path).content.decode()
        with schema_context("acme"):
            first = WebhookDelivery.objects.get()
        redelivered = client.post(f"{path}deliveries/{first.pk}/redeliver/", follow=True)
        with schema_context("acme"):
            message = WebhookMessage.objects.get()
        _deliver()
        after = client.get(path).content.decode()

    assert "500" in failed and "will retry" in failed and "down for maintenance" in failed
    assert "Message #1 (webhook.ping) is being delivered again." in redelivered.content.decode()
    assert message.state == "pending" and message.next_attempt_at <= timezone.now()
    assert [r.json()["sequence"] for r in receiver.received] == [1, 1]
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    assert re.findall(r'<tr id="delivery-(\d+)">', after)[1:] == [str(first.pk)]
    assert after.count('<tr id="delivery-') == 2 and "200" in after


def test_delete_asks_first_then_deletes_with_the_log(world, api):
    endpoint = _endpoint(api, world, "http://127.0.0.1:9/hook")
    client = _signed_in(world)
    path = f"/settings/webhooks/{endpoint['id']}/"

    page = client.get(path).content.decode()
    deleted = client.post(f"{path}delete/", follow=True)

    assert re.search(r'<details class="menu confirm"><summary class="button-quiet">Delete…</summary>', page)
    assert deleted.redirect_chain == [("/settings/webhooks/", 302)]
    assert (
        "The endpoint http://127.0.0.1:9/hook is deleted with its delivery log." in deleted.content.decode()
    )
    assert _endpoints() == [] and client.get(path).status_code == 404


def test_another_tenants_endpoint_is_not_found_on_every_route(world, api):
    theirs = _endpoint(api, world, "http://127.0.0.1:9/globex", tenant="globex")
    with Receiver(Answer(status=500)) as receiver:
        client = _signed_in(world, tenant="globex")
        client.post(f"/settings/webhooks/{theirs['id']}/edit/", {"url": receiver.url, "events": [RUNS]})
        client.post(f"/settings/webhooks/{theirs['id']}/ping/")
        _deliver("globex")
    with schema_context("globex"):
        delivery = WebhookDelivery.objects.get().pk
    acme = _signed_in(world)
    base = f"/settings/webhooks/{theirs['id']}/"

    answers = [
        acme.get(base).status_code,
        acme.get("/settings/webhooks/not-a-uuid/").status_code,
        *(
            acme.post(f"{base}{action}/", {"url": "http://127.0.0.1:9/x", "events": [RUNS]}).status_code
            for action in ("edit", "rotate-secret", "ping", "enable", "delete")
        ),
        acme.post(f"{base}deliveries/{delivery}/redeliver/").status_code,
    ]

    assert answers == [404] * 8
    assert _endpoints("globex") == [(receiver.url, "", [RUNS], True)]
    with schema_context("globex"):
        assert WebhookEndpoint.objects.get().secret == theirs["secret"]
        assert WebhookMessage.objects.count() == 1
    assert "http://127.0.0.1:9/globex" not in acme.get("/settings/webhooks/").content.decode()


def test_the_pages_pin_their_query_count(world, api, django_assert_num_queries):
    client = _signed_in(world)
    with Receiver() as receiver:
        endpoints = [_endpoint(api, world, f"{receiver.url}/{n}") for n in range(3)]
        for endpoint in endpoints:
            client.post(f"/settings/webhooks/{endpoint['id']}/ping/")
            client.post(f"/settings/webhooks/{endpoint['id']}/ping/")
        _deliver()
    client.get("/settings/webhooks/")  # the session is warm

    with django_assert_num_queries(LIST_QUERIES):
        listed = client.get("/settings/webhooks/")
    with django_assert_num_queries(DETAIL_QUERIES):
        detail = client.get(f"/settings/webhooks/{endpoints[0]['id']}/")

    assert listed.content.decode().count('<tr id="endpoint-') == 3
    assert detail.content.decode().count('<tr id="delivery-') == 2
