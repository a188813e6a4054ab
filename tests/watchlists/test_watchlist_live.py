"""End to end: members follow a curve, an operator uploads the next day, a real Celery worker ingests it, the
outbox relay starts the watchlist fan-out, and each follower whose threshold the move crosses gets their notice
over their own websocket; nobody else does (another member of the tenant, another tenant's member)."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import date
from typing import Any

import pytest
import websockets
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from apps.curves.models import Curve
from apps.ingestion.models import IngestRun
from apps.ingestion.services import ingest_run_create, ingest_run_execute
from apps.watchlists.models import Follow, Notice
from tests.support.websocket import ws_url
from tests.support.workbooks import MONTHS, eugp_workbook

pytestmark = [pytest.mark.live]

DAY_A, DAY_B = date(2031, 1, 6), date(2031, 1, 7)
LOCATION, PRODUCT = "EU", "Dutch_TTF"  # known to the units map: nothing quarantined


def _workbook(asof: date, scale: float) -> bytes:
    mids = [[round((30.0 + tenor / 10) * scale, 4)] for tenor in range(len(MONTHS))]
    return eugp_workbook(locations=(LOCATION,), products=(PRODUCT,), blocks=("NA",), mids=mids, asof=asof)


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
    saved = list(Curve.objects.filter(dataset="vendor:EUGP", product__icontains="TTF"))  # restored after
    first = ingest_run_create(
        data=_workbook(DAY_A, 1.0), file_name="EOD_EUGP_20310106_1430.xlsx", source="command"
    )
    run = ingest_run_execute(run_id=first.run.pk)
    run_ids = [run.pk]
    assert run.status == "succeeded", (run.error_code, run.error_message)
    curve_key = Curve.objects.get(dataset="vendor:EUGP", last_asof=DAY_A).curve_key
    try:
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
                    {"file": SimpleUploadedFile("EOD_EUGP_20310107_1430.xlsx", _workbook(DAY_B, 1.1))},
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
    finally:
        for schema in ("acme", "globex"):
            with schema_context(schema):
                Notice.objects.filter(curve_key=curve_key).delete()
                Follow.objects.filter(curve_key=curve_key).delete()
        IngestRun.objects.filter(pk__in=run_ids).delete()
        Curve.objects.filter(pk__in=[curve.pk for curve in saved]).delete()
        Curve.objects.filter(curve_key=curve_key).delete()
        Curve.objects.bulk_create(saved)
