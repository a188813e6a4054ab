"""Websockets stay authorised: an open socket closes when its credential stops holding, unknown hosts are
refused, and connects are throttled. Real ASGI server, real websocket client; rows are committed (the server
reads them on its own connection) and removed afterwards."""

import asyncio
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import websockets
from django.test import Client
from django_tenants.utils import schema_context

from apps.accounts.models import ApiToken, Membership, User
from apps.accounts.services import (
    api_token_create,
    api_token_revoke,
    membership_create,
    membership_remove,
    user_create,
)
from aurum.events import consumers
from aurum.events.publish import event_publish
from tenants.models import Tenant
from tenants.services import tenant_resume, tenant_suspend
from tests.support.websocket import closed_within, recv_json, ws_url

pytestmark = pytest.mark.live
DEADLINE = 5.0  # seconds; the re-check runs every 0.5 s here (15 s in production)


@pytest.fixture
def fast_recheck(settings: Any) -> None:
    settings.AURUM_WS_RECHECK_SECONDS = 0.5


@pytest.fixture
def fresh_tokens(committed_world: Any) -> Iterator[Callable[..., tuple[ApiToken, str]]]:
    """Committed tokens of acme's analyst, deleted after the test."""
    made: list[int] = []

    def make(**kwargs: Any) -> tuple[ApiToken, str]:
        membership = Membership.objects.get(pk=committed_world.acme.members["analyst"].membership_id)
        token, raw = api_token_create(membership=membership, name=f"ws {time.time_ns()}", **kwargs)
        made.append(token.pk)
        return token, raw

    yield make
    ApiToken.objects.filter(pk__in=made).delete()


def _open_then(asgi_server: Any, raw: str, change: Callable[[], Any]) -> Any:
    async def scenario() -> Any:
        async with websockets.connect(ws_url(asgi_server, raw)) as ws:
            assert (await recv_json(ws))["type"] == "stream.ready"
            await asyncio.to_thread(change)
            return await closed_within(ws, DEADLINE)

    return asyncio.run(scenario())


def test_revoking_the_token_closes_its_socket(fast_recheck, fresh_tokens, asgi_server):
    token, raw = fresh_tokens()

    closed = _open_then(asgi_server, raw, lambda: api_token_revoke(token=token))

    assert (closed.code, closed.reason) == (4401, "invalid token (revoked)")
    assert closed.seconds < DEADLINE


def test_revoking_the_parent_closes_the_childs_socket(fast_recheck, fresh_tokens, asgi_server):
    parent, _ = fresh_tokens()
    _, child_raw = fresh_tokens(parent=parent)

    closed = _open_then(asgi_server, child_raw, lambda: api_token_revoke(token=parent))

    assert (closed.code, closed.reason) == (4401, "invalid token (revoked)")


def test_removing_the_membership_closes_its_sockets(fast_recheck, committed_world, asgi_server):
    user = user_create(email=f"leaver{time.time_ns()}@acme.example", password=None)
    try:
        membership = membership_create(
            user=user, tenant=Tenant.objects.get(schema_name="acme"), role="viewer"
        )
        _, raw = api_token_create(membership=membership, name="leaver")

        closed = _open_then(asgi_server, raw, lambda: membership_remove(membership=membership))

        assert (closed.code, closed.reason) == (4401, "invalid token (unknown)")
        assert not ApiToken.objects.filter(membership__user=user).exists()
    finally:
        # Tenant tables point at users (scenarios' created_by): delete with a tenant schema on the path.
        with schema_context("acme"):
            User.objects.filter(pk=user.pk).delete()


def test_suspending_the_tenant_closes_its_sockets(fast_recheck, committed_world, asgi_server):
    acme = Tenant.objects.get(schema_name="acme")
    try:
        closed = _open_then(
            asgi_server, committed_world.acme.members["viewer"].token, lambda: tenant_suspend(tenant=acme)
        )
    finally:
        tenant_resume(tenant=acme)

    assert (closed.code, closed.reason) == (4403, "tenant suspended")


def test_signing_out_closes_the_portal_sessions_socket(fast_recheck, committed_world, asgi_server):
    browser = Client()
    browser.force_login(User.objects.get(email=committed_world.acme.members["viewer"].email))
    cookie = {"Cookie": f"sessionid={browser.cookies['sessionid'].value}"}

    async def scenario() -> Any:
        url = ws_url(asgi_server, host=committed_world.acme.host)
        async with websockets.connect(url, additional_headers=cookie, host="127.0.0.1") as ws:
            ready = await recv_json(ws)
            await asyncio.to_thread(browser.logout)
            return ready, await closed_within(ws, DEADLINE)

    ready, closed = asyncio.run(scenario())

    assert ready == {"type": "stream.ready", "tenant": "acme"}
    assert (closed.code, closed.reason) == (4401, "signed out")


def test_a_recheck_that_fails_unexpectedly_closes_the_socket_with_1011(
    fast_recheck, monkeypatch, fresh_tokens, asgi_server, caplog
):
    """Given an open socket, when its periodic credential check raises something other than a database
    error, then the socket is closed with 1011 (not left streaming unchecked), and the error is logged."""
    _, raw = fresh_tokens()

    async def broken(credential: Any) -> None:
        raise RuntimeError("credential store exploded")

    def break_the_check() -> None:
        monkeypatch.setattr(consumers, "credential_refusal", broken)

    closed = _open_then(asgi_server, raw, break_the_check)

    assert (closed.code, closed.reason) == (1011, "credential check failed")
    assert closed.seconds < DEADLINE
    assert any("re-check failed" in record.getMessage() for record in caplog.records)


def test_a_socket_idle_longer_than_the_channel_layers_blocking_pop_stays_open_and_gets_the_next_event(
    fresh_tokens, asgi_server
):
    """Given an open socket that receives nothing for 7 s (the channel layer's blocking pop waits 5 s on the
    server, so the client's read must wait longer), when an event is then published, it arrives on the same
    socket. With redis-py 8's default 5 s socket timeout the read timed out first and the socket died."""
    _, raw = fresh_tokens()

    async def scenario() -> dict[str, Any]:
        async with websockets.connect(ws_url(asgi_server, raw)) as ws:
            assert (await recv_json(ws))["type"] == "stream.ready"
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.recv(), timeout=7)  # idle: nothing arrives, nothing closes
            await asyncio.to_thread(
                event_publish, schema_name="acme", event_type="test.after_idle", payload={"n": 1}
            )
            return await recv_json(ws)

    event = asyncio.run(scenario())

    assert event["type"] == "test.after_idle"


def test_an_event_is_not_delivered_on_a_credential_that_no_longer_holds(
    settings, monkeypatch, fresh_tokens, asgi_server
):
    settings.AURUM_WS_RECHECK_SECONDS = 3600  # only the check before delivery can notice
    monkeypatch.setattr(consumers, "EVENT_RECHECK_SECONDS", 0.0)
    token, raw = fresh_tokens()

    def revoke_then_publish() -> None:
        api_token_revoke(token=token)
        event_publish(schema_name="acme", event_type="test.secret", payload={"n": 1})

    closed = _open_then(asgi_server, raw, revoke_then_publish)

    assert (closed.code, closed.reason, closed.received) == (4401, "invalid token (revoked)", [])


@pytest.mark.parametrize(
    "host",
    [
        "nowhere.localhost",  # allowed by ALLOWED_HOSTS (.localhost) but no tenant's domain
        "evil.example",  # not in ALLOWED_HOSTS
    ],
)
def test_an_unknown_host_is_refused_even_with_a_valid_token(world, asgi_server, host):
    headers = {"Authorization": f"Bearer {world.acme.members['analyst'].token}"}

    async def attempt() -> Any:
        url = ws_url(asgi_server, host=host)
        async with websockets.connect(url, additional_headers=headers, host="127.0.0.1") as ws:
            return await closed_within(ws, DEADLINE)

    closed = asyncio.run(attempt())

    assert (closed.code, closed.reason, closed.received) == (4404, "unknown host", [])


def _connect_results(asgi_server: Any, raw: str, times: int) -> list[tuple[str, int | None]]:
    async def attempts() -> list[tuple[str, int | None]]:
        results: list[tuple[str, int | None]] = []
        for _ in range(times):
            async with websockets.connect(ws_url(asgi_server, raw)) as ws:
                try:
                    results.append(((await recv_json(ws))["type"], None))
                except websockets.exceptions.ConnectionClosed as closed:
                    assert closed.rcvd is not None
                    results.append((closed.rcvd.reason, closed.rcvd.code))
        return results

    return asyncio.run(attempts())


def test_connects_are_throttled_per_credential(settings, fresh_tokens, asgi_server):
    settings.AURUM_WS_CONNECTS_PER_MINUTE = 2
    _, raw = fresh_tokens()
    _, other = fresh_tokens()

    first = _connect_results(asgi_server, raw, 3)
    second = _connect_results(asgi_server, other, 1)

    assert first[:2] == [("stream.ready", None), ("stream.ready", None)]
    reason, code = first[2]
    refused = re.fullmatch(r"too many connects; retry in (\d+) s", reason)
    # At 2 a minute a connect comes back 30 s after the first was taken, less the time the connects took
    # (a second or more on a loaded machine).
    assert code == 4429 and refused is not None and 25 <= int(refused.group(1)) <= 30, first[2]
    assert second == [("stream.ready", None)]


def test_connects_are_not_throttled_when_redis_is_down(settings, fresh_tokens, asgi_server):
    settings.AURUM_WS_CONNECTS_PER_MINUTE = 1
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # the throttle's Redis; the channel layer keeps its own
    _, raw = fresh_tokens()

    assert _connect_results(asgi_server, raw, 3) == [("stream.ready", None)] * 3
