"""End to end: members follow a curve, an operator uploads the next day, a real Celery worker ingests it,
the outbox relay starts the watchlist fan-out, and each follower whose threshold the move crosses gets their
notice over their own websocket; nobody else does (another member of the tenant, another tenant's member)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
import websockets
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from apps.watchlists.models import Notice
from tests.support.watch import DAY_B, watched_curve, watched_workbook
from tests.support.websocket import ws_url

pytestmark = [pytest.mark.live]


def _follow(api: Any, tenant: Any, role: str, curve_key: str, pct: float) -> None:
    body = {"curve_key": curve_key, "threshold_pct": pct}
    response = api.post("/api/v2/watchlist", body, format="json", **tenant.auth(role))
    assert response.status_code == 201, response.content


async def _events(ws: Any, seconds: float) -> list[dict[str, Any]]:
    """Every message the socket receives within ``seconds``."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            seen.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=left)))
        except TimeoutError:
            break
    return seen


async def _until_notice(ws: Any, seconds: float) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0 and not any(
        e["type"] == "watchlist.notice" for e in seen
    ):
        try:
            seen.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=left)))
        except TimeoutError:
            break
    return seen


def test_a_new_vintage_reaches_each_follower_beyond_threshold_live_and_nobody_else(
    committed_world, api, celery_worker, asgi_server
):
    w = committed_world
    with watched_curve() as (curve_key, run_ids):
        _follow(api, w.acme, "analyst", curve_key, 5)  # a 10 % move crosses it
        _follow(api, w.acme, "viewer", curve_key, 50)  # ... not this one
        _follow(api, w.globex, "analyst", curve_key, 1)  # another tenant's follower: their own notice

        async def scenario() -> tuple[list[dict[str, Any]], ...]:
            tokens = (w.acme.members["analyst"].token, w.acme.members["viewer"].token)
            async with (
                websockets.connect(ws_url(asgi_server, tokens[0])) as analyst,
                websockets.connect(ws_url(asgi_server, tokens[1])) as viewer,
                websockets.connect(ws_url(asgi_server, w.globex.members["analyst"].token)) as globex,
            ):
                for ws in (analyst, viewer, globex):
                    assert json.loads(await ws.recv())["type"] == "stream.ready"
                upload = await asyncio.to_thread(
                    api.post,
                    "/api/v2/ingest/runs",
                    {"file": SimpleUploadedFile("EOD_EUGP_20310107_1430.xlsx", watched_workbook(DAY_B, 1.1))},
                    format="multipart",
                    **w.ops.auth("trader"),
                )
                assert upload.status_code == 202, upload.content
                run_ids.append(upload.json()["data"]["id"])
                analyst_seen = await _until_notice(analyst, 60)
                globex_seen = await _until_notice(globex, 10)
                viewer_seen = await _events(viewer, 2)
                return analyst_seen, viewer_seen, globex_seen

        analyst_seen, viewer_seen, globex_seen = asyncio.run(scenario())

        (notice,) = [e for e in analyst_seen if e["type"] == "watchlist.notice"]
        assert notice["tenant"] == "acme"
        data = notice["data"]
        assert (data["curve_key"], data["asof"], data["prev_asof"]) == (curve_key, "2031-01-07", "2031-01-06")
        assert data["diff_pct"] == pytest.approx(10.0)
        with schema_context("acme"):
            stored = Notice.objects.get(pk=data["id"])
        assert stored.membership_id == w.acme.members["analyst"].membership_id
        # the viewer saw the ingest complete, and no notice (their threshold is 50 %)
        assert "ingestion.completed" in {e["type"] for e in viewer_seen}
        assert "watchlist.notice" not in {e["type"] for e in viewer_seen}
        (theirs,) = [e for e in globex_seen if e["type"] == "watchlist.notice"]
        assert theirs["tenant"] == "globex" and theirs["id"] != notice["id"]
        with schema_context("acme"):
            assert Notice.objects.filter(curve_key=curve_key).count() == 1
