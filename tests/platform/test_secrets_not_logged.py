"""Secrets never logged: with every logger at DEBUG, everything logged while a secret is created, sent or
used — as the configured handlers write it (the console handler, and the live server's own handlers) and as
pytest's caplog records it — holds none of them.

The secrets: an API token (created, then sent in Authorization, to the test client and to a live ASGI
server), a portal password (right and wrong), a webhook endpoint's signing secret (created, rotated, used to
sign a delivery to a real receiver), an invitation link's token (the portal's accept page, which has the token
in its path, and the API's accept) with the new member's password, and a feed's API key (EIA takes it in the
query string, which httpx logs). The spans of the same URLs (tracing on) carry neither the key nor the
link's token.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from uuid import UUID

import httpx
import pytest
from django.core import mail, signing
from django_tenants.utils import schema_context

from apps.accounts.selectors import INVITATION_SALT
from apps.webhooks.models import WebhookEndpoint
from apps.webhooks.services.delivery import webhook_deliver_due
from apps.webhooks.services.messages import webhook_event_fanout
from aurum.events.outbox import outbox_append
from tests.support.feeds import fetch_recorded
from tests.support.lake import private_lake
from tests.support.observability import read_spans, tracing_to
from tests.support.webhooks import Receiver

PASSWORD = "a long new passphrase 81"


def _stream_handlers() -> list[logging.StreamHandler]:
    """The handlers that write somewhere: every logger's stream handlers (pytest's capture handlers aside)."""
    loggers = [logging.getLogger(), *map(logging.getLogger, list(logging.root.manager.loggerDict))]
    return [
        handler
        for logger in loggers
        if isinstance(logger, logging.Logger)
        for handler in logger.handlers
        if type(handler) is logging.StreamHandler
    ]


@pytest.fixture
def every_line(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], str]]:
    """Every logger at DEBUG; all they write (handlers' streams and caplog's text), as one string."""
    loggers = [logging.getLogger(), *map(logging.getLogger, list(logging.root.manager.loggerDict))]
    levels = {logger: logger.level for logger in loggers if isinstance(logger, logging.Logger)}
    written = io.StringIO()
    streams = {handler: handler.setStream(written) for handler in _stream_handlers()}
    assert streams, "no configured handler writes the log"
    for logger in levels:
        logger.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    try:
        yield lambda: written.getvalue() + "\n" + caplog.text
    finally:
        for handler, stream in streams.items():
            handler.setStream(stream)
        for logger, level in levels.items():
            logger.setLevel(level)


def _assert_absent(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret and secret not in text, f"{secret[:12]}… is in the log"


def test_an_api_token_is_not_logged_when_created_or_used(world, api, every_line):
    created = api.post("/api/v2/tokens", {"name": "logged?"}, format="json", **world.acme.auth("admin"))
    raw = created.json()["data"]["token"]
    used = api.get("/api/v2/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    refused = api.get("/api/v2/me", HTTP_AUTHORIZATION=f"Bearer {raw}x")

    assert (created.status_code, used.status_code, refused.status_code) == (201, 200, 401)
    text = every_line()
    assert '"path": "/api/v2/me"' in text  # the capture saw the requests
    _assert_absent(text, raw, raw.split("_", 2)[2], world.acme.members["admin"].token)


def test_a_token_sent_to_the_live_server_and_an_invitation_path_are_not_logged(
    world, asgi_server, every_line
):
    token = world.acme.members["analyst"].token
    link_token = signing.dumps(987_654, salt=INVITATION_SALT)  # well formed, names no invitation
    headers = {"Host": world.acme.host}

    with httpx.Client(base_url=asgi_server.url, headers=headers, timeout=10) as client:
        me = client.get("/api/v2/me", headers={"Authorization": f"Bearer {token}"})
        page = client.get(f"/invitations/{link_token}/")

    assert (me.status_code, page.status_code) == (200, 404)
    text = every_line()
    assert "/invitations/" in text  # the 404 was logged, without its token
    _assert_absent(text, token, token.split("_", 2)[2], link_token, link_token.split(":")[-1])


def test_a_portal_password_is_not_logged(world, api, every_line):
    member = world.acme.members["trader"]

    wrong = api.post(
        "/login/", {"email": member.email, "password": "wrong-but-secret-7"}, HTTP_HOST=world.acme.host
    )
    right = api.post(
        "/login/", {"email": member.email, "password": member.password}, HTTP_HOST=world.acme.host
    )

    assert (wrong.status_code, right.status_code) == (401, 302)
    text = every_line()
    assert '"path": "/login/"' in text
    _assert_absent(text, "wrong-but-secret-7", member.password)


def test_a_webhook_secret_is_not_logged_when_created_rotated_or_signing(world, api, every_line):
    auth = world.acme.auth("admin")
    with Receiver() as receiver:
        created = api.post(
            "/api/v2/webhooks",
            {"url": receiver.url, "events": ["scenario.run.succeeded"]},
            format="json",
            **auth,
        ).json()["data"]
        rotated = api.post(f"/api/v2/webhooks/{created['id']}/rotate-secret", format="json", **auth).json()[
            "data"
        ]
        event = outbox_append(
            schema_name="acme",
            event_type="scenario.run.succeeded",
            payload={"run_id": "r-1"},
            membership_id=None,
        )
        with schema_context("acme"):
            webhook_event_fanout(event_id=str(event.event_id))
            tally = webhook_deliver_due()

    assert tally.succeeded == 1 and len(receiver.received) == 1
    secrets = [created["secret"], rotated["secret"]]
    assert all(s.startswith("whsec_") for s in secrets) and secrets[0] != secrets[1]
    with schema_context("acme"):
        assert WebhookEndpoint.objects.get(pk=UUID(created["id"])).secret == rotated["secret"]
    text = every_line()
    assert "rotate-secret" in text
    _assert_absent(text, *secrets, *(s.removeprefix("whsec_") for s in secrets))


def test_an_invitation_token_and_the_new_password_are_not_logged(
    world, api, every_line, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invited = api.post(
            "/api/v2/invitations",
            {"email": "logged@example.com", "role": "viewer"},
            format="json",
            **world.acme.auth("admin"),
        )
    (message,) = mail.outbox
    found = re.search(r"/invitations/([^/\s]+)/", str(message.body))
    assert found is not None, message.body
    link_token = found.group(1)
    page = api.get(f"/invitations/{link_token}/", HTTP_HOST=world.acme.host)
    weak = api.post(
        f"/invitations/{link_token}/",
        {"password": "weak", "password_again": "weak"},
        HTTP_HOST=world.acme.host,
    )
    accepted = api.post(
        "/api/v2/invitations/accept",
        {"token": link_token, "password": PASSWORD},
        format="json",
        HTTP_HOST=world.acme.host,
    )

    assert (invited.status_code, page.status_code, weak.status_code, accepted.status_code) == (
        201,
        200,
        400,
        201,
    )
    text = every_line()
    assert "Bad Request: /invitations/" in text  # Django's warning, with the path's token taken out
    _assert_absent(text, link_token, link_token.split(":")[-1], PASSWORD)


def test_a_feeds_api_key_in_the_query_string_is_not_logged(world, tmp_path, every_line):
    key = "eia-key-that-must-not-leak-5e1f"
    seen: list[httpx.Request] = []

    with private_lake(tmp_path, []):
        run = fetch_recorded("EIA", "natural-gas/pri/fut", seen=seen, AURUM_EIA_API_KEY=key)

    assert run.status == "succeeded"
    assert {r.url.params["api_key"] for r in seen} == {key}  # the key did travel in the query string
    text = every_line()
    assert "api_key=[redacted]" in text  # httpx's request line, at DEBUG, without the key
    _assert_absent(text, key)


def test_spans_carry_urls_without_the_key_or_the_link_token(world, api, tmp_path):
    key = "eia-key-not-in-spans-77c1"
    link_token = signing.dumps(987_655, salt=INVITATION_SALT)  # well formed, names no invitation
    spans_file = tmp_path / "spans.jsonl"

    # An outgoing request with its key in the query string, as the feeds send EIA's and FRED's (their recorded
    # transport is not traced: httpx's instrumentation wraps the real one), and a portal page with a token.
    with tracing_to(spans_file), Receiver() as receiver:
        sent = httpx.post(f"{receiver.url}?series=NG&api_key={key}", json={})
        page = api.get(f"/invitations/{link_token}/", HTTP_HOST=world.acme.host)

    assert (sent.status_code, page.status_code) == (200, 404)
    spans = read_spans(spans_file)
    client = [s for s in spans if s["kind"] == "SpanKind.CLIENT" and s["name"] == "POST"]
    server = [s for s in spans if s["kind"] == "SpanKind.SERVER"]
    assert client and server
    text = spans_file.read_text()
    assert "api_key=[redacted]" in json.dumps([s["attributes"] for s in client])
    assert "/invitations/[redacted]/" in json.dumps([s["attributes"] for s in server])
    _assert_absent(text, key, link_token, link_token.split(":")[-1])
