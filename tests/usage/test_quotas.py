"""Beyond a monthly quota the answer is a 429 problem naming the quota and when it resets; at 80 % and 100 %
one ``quota.threshold`` event goes out per tenant, metric, month and threshold, even under concurrency."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from apps.usage.models import QuotaThreshold
from apps.usage.services import usage_take
from aurum.errors import RateLimitedError
from aurum.events.models import OutboxEvent
from tenants.models import Plan, Tenant
from tests.support.usage import quota_tenant

MARCH = dt.datetime(2031, 3, 31, 23, 59, 58, tzinfo=dt.UTC)
APRIL = dt.datetime(2031, 4, 1, 0, 0, 1, tzinfo=dt.UTC)


def _next_month_start() -> str:
    today = timezone.now().date()
    first = dt.date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    return f"{first.isoformat()}T00:00:00Z"


def test_the_request_beyond_the_api_request_quota_is_a_429_problem_naming_the_quota(api, world):
    quota = quota_tenant(api_requests_per_month=3)

    responses = [api.get("/api/v2/me", **quota.auth()) for _ in range(4)]

    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r["X-Quota-Remaining"] for r in responses] == ["2", "1", "0", "0"]
    assert {r["X-Quota-Limit"] for r in responses} == {"3"}
    refused = responses[3]
    assert refused["Content-Type"] == "application/problem+json"
    body = refused.json()
    assert body["type"] == "https://aurum.dev/problems/quota-exceeded"
    assert body["status"] == 429
    assert body["quota"] == {
        "metric": "api_requests",
        "limit": 3,
        "used": 3,
        "resets_at": _next_month_start(),
    }
    seconds = int(refused["Retry-After"])
    reset = dt.datetime.fromisoformat(body["quota"]["resets_at"].replace("Z", "+00:00"))
    assert abs((reset - timezone.now()).total_seconds() - seconds) <= 5
    assert refused["X-Quota-Reset"] == refused["Retry-After"]
    # Refused requests are not counted: the month holds exactly the quota.
    month = usage_take(tenant=quota.tenant, credential="x", metric="api_requests", amount=0, mode="none")
    assert month is not None and month.used == 3


def test_a_tenant_without_an_api_request_quota_gets_no_quota_headers(api, world):
    quota = quota_tenant()

    response = api.get("/api/v2/me", **quota.auth())

    assert response.status_code == 200
    assert "X-Quota-Limit" not in response
    assert response["X-RateLimit-Limit"] == "100000"


def test_one_tenants_quota_does_not_limit_another(api, world):
    quota = quota_tenant(api_requests_per_month=1)
    api.get("/api/v2/me", **quota.auth())
    assert api.get("/api/v2/me", **quota.auth()).status_code == 429

    assert api.get("/api/v2/me", **world.acme.auth()).status_code == 200


def test_the_quota_resets_when_the_month_rolls_over(world):
    quota = quota_tenant(api_requests_per_month=2)
    for _ in range(2):
        usage_take(tenant=quota.tenant, credential="token:1", metric="api_requests", now=MARCH)
    with pytest.raises(RateLimitedError) as refused:
        usage_take(tenant=quota.tenant, credential="token:1", metric="api_requests", now=MARCH)

    april = usage_take(tenant=quota.tenant, credential="token:1", metric="api_requests", now=APRIL)

    assert refused.value.extra["quota"]["resets_at"] == "2031-04-01T00:00:00Z"
    assert refused.value.headers["Retry-After"] == "2"
    assert april is not None
    assert (april.used, april.remaining, april.resets_at.isoformat()) == (1, 1, "2031-05-01T00:00:00+00:00")


def test_an_export_beyond_the_export_row_quota_is_refused_whole(world):
    quota = quota_tenant(export_rows_per_month=1000)
    usage_take(tenant=quota.tenant, credential="token:1", metric="export_rows", amount=900, now=MARCH)

    with pytest.raises(RateLimitedError) as refused:
        usage_take(tenant=quota.tenant, credential="token:1", metric="export_rows", amount=101, now=MARCH)
    fits = usage_take(tenant=quota.tenant, credential="token:1", metric="export_rows", amount=100, now=MARCH)

    assert refused.value.extra["quota"] == {
        "metric": "export_rows",
        "limit": 1000,
        "used": 900,
        "resets_at": "2031-04-01T00:00:00Z",
    }
    assert fits is not None and fits.remaining == 0


def test_a_read_under_the_rows_quota_is_served_whole_and_the_next_is_refused(world):
    quota = quota_tenant(rows_per_month=100)
    usage_take(tenant=quota.tenant, credential="t", metric="rows_served", amount=60, mode="soft", now=MARCH)

    over = usage_take(
        tenant=quota.tenant, credential="t", metric="rows_served", amount=60, mode="soft", now=MARCH
    )
    with pytest.raises(RateLimitedError) as refused:
        usage_take(
            tenant=quota.tenant, credential="t", metric="rows_served", amount=1, mode="soft", now=MARCH
        )

    assert over is not None and over.used == 120
    assert refused.value.extra["quota"]["used"] == 120


def _threshold_events(tenant: Tenant) -> list[dict]:
    return [
        event.payload
        for event in OutboxEvent.objects.filter(
            tenant_schema=tenant.schema_name, event_type="quota.threshold"
        ).order_by("pk")
    ]


def test_80_and_100_percent_raise_one_event_each(world):
    quota = quota_tenant(api_requests_per_month=10)
    for _ in range(7):
        usage_take(tenant=quota.tenant, credential="t", metric="api_requests", now=MARCH)
    assert _threshold_events(quota.tenant) == []

    for _ in range(3):
        usage_take(tenant=quota.tenant, credential="t", metric="api_requests", now=MARCH)
    with pytest.raises(RateLimitedError):
        usage_take(tenant=quota.tenant, credential="t", metric="api_requests", now=MARCH)

    common = {"metric": "api_requests", "limit": 10, "month": "2031-03"}
    assert _threshold_events(quota.tenant) == [
        {
            **common,
            "threshold": 80,
            "used": 8,
            "resets_at": "2031-04-01T00:00:00Z",
            "usage_url": "/api/v2/usage",
        },
        {
            **common,
            "threshold": 100,
            "used": 10,
            "resets_at": "2031-04-01T00:00:00Z",
            "usage_url": "/api/v2/usage",
        },
    ]
    assert list(
        QuotaThreshold.objects.filter(tenant=quota.tenant).values_list("metric", "threshold", "used")
    ) == [("api_requests", 80, 8), ("api_requests", 100, 10)]


def test_a_new_month_raises_its_own_threshold_events(world):
    quota = quota_tenant(scenario_runs_per_month=1)
    usage_take(tenant=quota.tenant, credential="t", metric="scenario_runs", now=MARCH)
    usage_take(tenant=quota.tenant, credential="t", metric="scenario_runs", now=APRIL)

    assert [(e["month"], e["threshold"]) for e in _threshold_events(quota.tenant)] == [
        ("2031-03", 80),
        ("2031-03", 100),
        ("2031-04", 80),
        ("2031-04", 100),
    ]


def test_thresholds_are_recorded_exactly_once_under_concurrent_requests(committed_world):
    """Eight threads take 60 of a quota of 50 at once (committed: each thread its own connection). Acme's
    rows of a month nobody else uses, with an unsaved plan of its own, removed afterwards."""
    acme = Tenant.objects.get(schema_name="acme")
    acme.plan = Plan(code="threads", name="Threads", api_requests_per_month=50)
    month = dt.datetime(2003, 5, 10, tzinfo=dt.UTC)
    outcomes: list[str] = []
    lock = threading.Lock()

    def take() -> None:
        try:
            for _ in range(6):
                try:
                    usage_take(tenant=acme, credential="threads", metric="api_requests", now=month)
                    result = "served"
                except RateLimitedError:
                    result = "refused"
                with lock:
                    outcomes.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(10)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        rows = QuotaThreshold.objects.filter(tenant=acme, month=dt.date(2003, 5, 1))
        assert (outcomes.count("served"), outcomes.count("refused")) == (50, 10)
        assert sorted(rows.values_list("threshold", "used")) == [(80, 40), (100, 50)]
        events = OutboxEvent.objects.filter(
            tenant_schema="acme", event_type="quota.threshold", payload__month="2003-05"
        )
        assert sorted(e.payload["threshold"] for e in events) == [80, 100]
    finally:
        QuotaThreshold.objects.filter(tenant=acme, month=dt.date(2003, 5, 1)).delete()
        OutboxEvent.objects.filter(
            tenant_schema="acme", event_type="quota.threshold", payload__month="2003-05"
        ).delete()
