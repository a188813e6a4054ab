"""Freshness SLA events: ``dataset.late`` once when a publication's SLA passes without its vintage,
``dataset.recovered`` once when it lands, addressed to the tenants licensed for the dataset; exactly once
with two evaluators at the same time; delivered over the websocket and to webhooks. And the status the API
shows (``/api/v2/datasets``), licensed per tenant."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import websockets
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.datasets.models import DatasetDayState
from apps.datasets.registry import CONTRACTS
from apps.datasets.selectors import publication_due
from apps.datasets.services.freshness import dataset_freshness_evaluate
from apps.feeds.models import FetchRun, Watermark
from aurum.events.models import OutboxEvent
from aurum.events.outbox import outbox_relay
from tests.support.doc_examples import doc_example
from tests.support.feeds import FEED_LICENCES
from tests.support.webhooks import Receiver, verified
from tests.support.websocket import recv_json, ws_url

# A Wednesday no data of any test exists for; U.S. daylight saving starts on 2030-03-10.
NOW = datetime(2030, 3, 6, 20, 0, tzinfo=UTC)
ALL = sorted(CONTRACTS)
# Acme's plan has every vendor dataset and the feeds of FEED_LICENCES (not PJM or ERCOT).
ACME = sorted(c.id for c in CONTRACTS.values() if c.licence in {*FEED_LICENCES} or c.kind == "vendor_eod")


def _events(schema: str, event_type: str) -> list[dict[str, Any]]:
    return [
        e.payload
        for e in OutboxEvent.objects.filter(tenant_schema=schema, event_type=event_type).order_by("id")
    ]


def _watermark(provider: str, dataset: str, until: datetime) -> None:
    run = FetchRun.objects.create(
        provider=provider,
        dataset=dataset,
        window_start=until - timedelta(days=1),
        window_end=until,
        status="succeeded",
    )
    Watermark.objects.update_or_create(
        provider=provider, dataset=dataset, defaults={"fetched_until": until, "last_run": run}
    )


def test_a_missed_sla_is_one_late_event_per_dataset_to_licensed_tenants(world):
    first = dataset_freshness_evaluate(now=NOW)
    again = dataset_freshness_evaluate(now=NOW + timedelta(minutes=1))

    assert first == {"late": len(ALL), "recovered": 0}
    assert again == {"late": 0, "recovered": 0}
    assert sorted(p["dataset"] for p in _events("acme", "dataset.late")) == ACME
    assert sorted(p["dataset"] for p in _events("ops", "dataset.late")) == ALL  # the operators
    assert [p["dataset"] for p in _events("globex", "dataset.late")] == ["vendor:EUGP"]
    dgs10 = next(p for p in _events("acme", "dataset.late") if p["dataset"] == "feed:fred:DGS10")
    # The integrators' guide shows this very payload.
    assert dgs10 == json.loads(doc_example("docs/integrations.md", "dataset-late-event-data").code)
    assert (dgs10["publication_day"], dgs10["due_at"], dgs10["period"]["start"]) == (
        "2030-03-06",
        "2030-03-06T19:00:00+00:00",
        "2030-03-05T00:00:00+00:00",
    )
    assert DatasetDayState.objects.filter(status="late").count() == len(ALL)


def test_the_vintage_landing_after_the_sla_is_one_recovered_event(world):
    dataset_freshness_evaluate(now=NOW)
    _watermark("FRED", "DGS10", datetime(2030, 3, 6, tzinfo=UTC))

    landed = dataset_freshness_evaluate(now=NOW + timedelta(minutes=5))
    again = dataset_freshness_evaluate(now=NOW + timedelta(minutes=6))

    # Five minutes on, the five-minute feeds (MISO, PJM) have their next interval late (decision 0042).
    assert (landed, again) == ({"late": 2, "recovered": 1}, {"late": 0, "recovered": 0})
    [recovered] = _events("acme", "dataset.recovered")
    assert (recovered["dataset"], recovered["status"], recovered["recovered_at"]) == (
        "feed:fred:DGS10",
        "recovered",
        "2030-03-06T20:05:00+00:00",
    )
    assert _events("globex", "dataset.recovered") == []  # not licensed for FRED
    state = DatasetDayState.objects.get(dataset="feed:fred:DGS10")
    assert (state.status, state.publication_day.isoformat()) == ("recovered", "2030-03-06")


def test_an_eod_workbook_published_for_the_day_recovers_its_dataset(world):
    from apps.ingestion.models import IngestRun

    dataset_freshness_evaluate(now=NOW)
    IngestRun.objects.create(
        file_name="EOD_EUGP_20300306_1430.xlsx",
        sha256="0" * 64,
        size_bytes=1,
        raw_uri="",
        source="api",
        vendor="EUGP",
        dataset="vendor:EUGP",
        asof_date=NOW.date(),
        status="succeeded",
        finished_at=NOW,
    )

    assert dataset_freshness_evaluate(now=NOW + timedelta(minutes=1)) == {"late": 0, "recovered": 1}
    assert [p["dataset"] for p in _events("globex", "dataset.recovered")] == ["vendor:EUGP"]


def test_a_vintage_on_time_raises_no_event(world):
    _watermark("FRED", "DGS10", datetime(2030, 3, 6, tzinfo=UTC))

    dataset_freshness_evaluate(now=NOW)

    assert "feed:fred:DGS10" not in [p["dataset"] for p in _events("acme", "dataset.late")]
    assert not DatasetDayState.objects.filter(dataset="feed:fred:DGS10").exists()


def test_two_evaluators_at_once_emit_each_late_event_once(committed_world):
    barrier = threading.Barrier(2, timeout=20)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def evaluator() -> None:
        try:
            barrier.wait()
            results.append(dataset_freshness_evaluate(now=NOW))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    assert list(DatasetDayState.objects.values_list("dataset", "publication_day", "late_at")) == []
    try:
        threads = [threading.Thread(target=evaluator) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert errors == []
        assert len(results) == 2 and sum(r["late"] for r in results) == len(ALL)
        late = OutboxEvent.objects.filter(tenant_schema="acme", event_type="dataset.late")
        assert sorted(late.values_list("payload__dataset", flat=True)) == ACME
    finally:
        OutboxEvent.objects.filter(event_type__startswith="dataset.").delete()
        DatasetDayState.objects.all().delete()


@pytest.mark.live
def test_a_late_dataset_reaches_the_tenants_websocket(world, asgi_server):
    async def scenario() -> dict[str, Any]:
        async with websockets.connect(ws_url(asgi_server, world.acme.members["viewer"].token)) as ws:
            await recv_json(ws)  # stream.ready
            await asyncio.to_thread(_late_and_relay)
            while True:
                event = await recv_json(ws)
                if event["type"] == "dataset.late" and event["data"]["dataset"] == "feed:fred:DGS10":
                    return event

    try:
        event = asyncio.run(scenario())
    finally:  # the evaluation ran in a thread of its own: committed
        asyncio.run(asyncio.to_thread(_committed_remove))

    assert (event["tenant"], event["data"]["publication_day"], event["data"]["status"]) == (
        "acme",
        "2030-03-06",
        "late",
    )


def _committed_remove() -> None:
    try:
        OutboxEvent.objects.filter(event_type__startswith="dataset.").delete()
        DatasetDayState.objects.all().delete()
    finally:
        connection.close()


def _late_and_relay() -> None:
    dataset_freshness_evaluate(now=NOW)
    try:
        late = OutboxEvent.objects.filter(event_type="dataset.late").values_list("pk", flat=True)
        outbox_relay(ids=list(late))
    finally:
        connection.close()


def test_a_late_dataset_is_delivered_to_a_subscribed_webhook(world, api):
    from apps.webhooks.services.delivery import webhook_deliver_due
    from apps.webhooks.services.messages import webhook_event_fanout

    with Receiver() as receiver:
        created = api.post(
            "/api/v2/webhooks",
            {"url": receiver.url, "events": ["dataset.late", "dataset.recovered"]},
            format="json",
            **world.acme.auth("admin"),
        )
        assert created.status_code == 201, created.content
        dataset_freshness_evaluate(now=NOW)
        late = OutboxEvent.objects.get(
            tenant_schema="acme", event_type="dataset.late", payload__dataset="vendor:EUGP"
        )
        with schema_context("acme"):
            webhook_event_fanout(event_id=str(late.event_id))
            webhook_deliver_due()

    [received] = receiver.received
    body = verified(created.json()["data"]["secret"], received)
    assert (body["type"], body["data"]["dataset"], body["data"]["url"]) == (
        "dataset.late",
        "vendor:EUGP",
        "/api/v2/datasets/vendor:EUGP",
    )


def test_the_datasets_api_shows_status_contract_and_next_publication(world, api):
    now = timezone.now()
    Watermark.objects.filter(provider="FRED").delete()
    dgs10, gdp = CONTRACTS["feed:fred:DGS10"], CONTRACTS["feed:fred:GDP"]
    _watermark("FRED", "DGS10", now + timedelta(days=2))  # whatever is due has landed
    _watermark("FRED", "UNRATE", now + timedelta(days=40))
    due_unrate = publication_due(CONTRACTS["feed:fred:UNRATE"], now)
    assert due_unrate is not None
    DatasetDayState.objects.create(
        dataset="feed:fred:UNRATE",
        publication_day=due_unrate.day,
        expected_at=due_unrate.expected_at,
        due_at=due_unrate.due_at,
        status="recovered",
        late_at=due_unrate.due_at,
        recovered_at=now,
    )

    listed = api.get("/api/v2/datasets?limit=100", **world.acme.auth("viewer"))
    one = api.get("/api/v2/datasets/feed:fred:GDP", **world.acme.auth("viewer"))

    assert listed.status_code == 200, listed.content
    statuses = {d["id"]: d["status"] for d in listed.json()["data"]}
    assert sorted(statuses) == ACME
    assert (statuses["feed:fred:DGS10"], statuses["feed:fred:GDP"], statuses["feed:fred:UNRATE"]) == (
        "on_time",
        "late",
        "recovered",
    )
    body = one.json()["data"]
    due = publication_due(gdp, now)
    assert due is not None
    assert body["latest_due"]["publication_day"] == due.day.isoformat()
    assert body["next_expected"]["publication_day"] == gdp.next_expected(now).day.isoformat()
    assert body["last_vintage"] is None
    assert body["contract"]["sla_minutes"] == 240
    assert body["contract"]["calendar"] == "quarterly-28th"
    assert body["contract"]["time_zone"] == "America/New_York"
    assert [r["name"] for r in body["contract"]["quality_rules"]] == ["unique_key", "value_in_range"]
    assert {"name": "series_id", "type": "string", "required": True} in body["contract"]["schema"]
    assert dgs10.id in statuses


def test_datasets_are_listed_only_where_licensed(world, api):
    globex = api.get("/api/v2/datasets", **world.globex.auth("viewer"))
    hidden = api.get("/api/v2/datasets/feed:fred:DGS10", **world.globex.auth("viewer"))
    unknown = api.get("/api/v2/datasets/feed:fred:NOPE", **world.acme.auth("viewer"))

    assert [d["id"] for d in globex.json()["data"]] == ["vendor:EUGP"]
    assert (hidden.status_code, unknown.status_code) == (404, 404)
    assert hidden.json()["detail"] == unknown.json()["detail"].replace("NOPE", "DGS10")
