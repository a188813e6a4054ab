"""/ws/events/ over a real websocket connection to a real ASGI server."""

import asyncio

import pytest
import websockets

from aurum.events.publish import event_publish
from tests.support.websocket import recv_json, ws_url

pytestmark = [pytest.mark.live, pytest.mark.django_db]


def test_connect_with_token_header_and_receive_only_own_tenant_events(world, asgi_server):
    async def scenario() -> tuple[list[dict], list[dict]]:
        acme_headers = {"Authorization": f"Bearer {world.acme.members['analyst'].token}"}
        async with (
            websockets.connect(ws_url(asgi_server), additional_headers=acme_headers) as acme,
            websockets.connect(ws_url(asgi_server, world.globex.members["viewer"].token)) as globex,
        ):
            acme_seen = [await recv_json(acme)]
            globex_seen = [await recv_json(globex)]
            await asyncio.to_thread(
                event_publish, schema_name="acme", event_type="test.ping", payload={"n": 1}
            )
            await asyncio.to_thread(
                event_publish, schema_name="globex", event_type="test.ping", payload={"n": 2}
            )
            acme_seen.append(await recv_json(acme))
            globex_seen.append(await recv_json(globex))
            # Nothing else arrives: acme never gets globex's event, and vice versa.
            for ws in (acme, globex):
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(ws.recv(), timeout=0.5)
            return acme_seen, globex_seen

    acme_seen, globex_seen = asyncio.run(scenario())

    assert acme_seen[0] == {"type": "stream.ready", "tenant": "acme"}
    assert globex_seen[0] == {"type": "stream.ready", "tenant": "globex"}
    assert acme_seen[1]["type"] == "test.ping" and acme_seen[1]["data"] == {"n": 1}
    assert acme_seen[1]["tenant"] == "acme"
    assert globex_seen[1]["data"] == {"n": 2}


@pytest.mark.parametrize("token", [None, "aurum_000000000000_nope", "garbage"])
def test_connect_without_a_valid_credential_is_refused(world, asgi_server, token):
    async def attempt() -> int:
        async with websockets.connect(ws_url(asgi_server, token)) as ws:
            await ws.recv()
        return 0

    with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
        asyncio.run(attempt())
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


def test_token_of_another_tenant_on_a_tenant_host_is_refused(world, asgi_server):
    async def attempt() -> None:
        headers = {"Authorization": f"Bearer {world.acme.members['admin'].token}"}
        uri = f"ws://globex.localhost:{asgi_server.port}/ws/events/"
        # Connect to 127.0.0.1 while the Host header names globex's domain.
        async with websockets.connect(uri, additional_headers=headers, host="127.0.0.1") as ws:
            await ws.recv()

    with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
        asyncio.run(attempt())
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


def test_event_published_on_commit_is_not_sent_for_a_rolled_back_change(world, asgi_server):
    from django.db import transaction

    from aurum.events.publish import event_publish_on_commit

    async def scenario() -> list[dict]:
        token = world.acme.members["viewer"].token
        async with websockets.connect(ws_url(asgi_server, token)) as ws:
            await recv_json(ws)

            def rolled_back() -> None:
                try:
                    with transaction.atomic():
                        event_publish_on_commit(schema_name="acme", event_type="never", payload={})
                        raise RuntimeError("abort")
                except RuntimeError:
                    pass
                event_publish(schema_name="acme", event_type="after", payload={})

            await asyncio.to_thread(rolled_back)
            return [await recv_json(ws)]

    seen = asyncio.run(scenario())

    assert [e["type"] for e in seen] == ["after"]
