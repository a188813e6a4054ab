"""Websocket client helpers for tests against the real ASGI server (``asgi_server`` fixture)."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import websockets


def ws_url(server: Any, token: str | None = None, host: str | None = None) -> str:
    """``/ws/events/`` of the live server, with ``?token=`` and a Host of ``host`` (the socket still goes
    to 127.0.0.1: pass ``host="127.0.0.1"`` to ``websockets.connect`` with such a URL)."""
    base = f"ws://{host or '127.0.0.1'}:{server.port}/ws/events/"
    return f"{base}?token={token}" if token else base


async def recv_json(ws: Any, timeout: float = 5.0) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), timeout=timeout)))


@dataclass(frozen=True)
class Closed:
    code: int
    reason: str
    seconds: float  # from the call until the server's close frame arrived
    received: list[dict[str, Any]]  # messages delivered before the close


async def closed_within(ws: Any, deadline_seconds: float) -> Closed:
    """Read until the server closes the socket; TimeoutError if it stays open past the deadline."""
    start = time.monotonic()
    received: list[dict[str, Any]] = []
    try:
        while True:
            left = deadline_seconds - (time.monotonic() - start)
            received.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=max(left, 0.001))))
    except websockets.exceptions.ConnectionClosed as closed:
        assert closed.rcvd is not None, "the client, not the server, closed the socket"
        return Closed(closed.rcvd.code, closed.rcvd.reason, time.monotonic() - start, received)
