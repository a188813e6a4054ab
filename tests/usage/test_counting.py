"""Usage is counted exactly per day (UTC) and credential, in Redis while serving, and flushed to Postgres by
``usage_flush`` without losing or double-counting anything, however the flush dies or races another."""

from __future__ import annotations

import datetime as dt
import threading

from django.db import connection
from django.utils import timezone

from apps.usage import meters
from apps.usage.models import UsageDay, UsageFlushBatch
from apps.usage.services import usage_batch_apply, usage_flush, usage_take
from tenants.models import Tenant
from tests.support.usage import quota_tenant

D1 = dt.datetime(2031, 3, 30, 23, 59, 59, tzinfo=dt.UTC)
D2 = dt.datetime(2031, 3, 31, 0, 0, 0, tzinfo=dt.UTC)


def _stored(tenant) -> dict[tuple[str, str, str], int]:
    return {
        (row.day.isoformat(), row.credential, row.metric): row.count
        for row in UsageDay.objects.filter(tenant=tenant)
    }


def test_requests_of_two_tokens_are_counted_exactly_per_credential_and_shown_before_and_after_the_flush(
    api, world
):
    quota = quota_tenant()
    for _ in range(3):
        assert api.get("/api/v2/me", **quota.auth("admin")).status_code == 200
    for _ in range(2):
        assert api.get("/api/v2/me", **quota.auth("analyst")).status_code == 200
    today = timezone.now().date().isoformat()
    admin, analyst = quota.credential("admin"), quota.credential("analyst")
    zero = {"rows_served": 0, "scenario_runs": 0, "export_rows": 0}

    before = api.get("/api/v2/usage", **quota.auth("admin"))  # counted too: the 4th of the admin token
    usage_flush()
    after = api.get("/api/v2/usage", **quota.auth("admin"))

    assert before.status_code == 200, before.content
    expected = sorted(
        [
            {"day": today, "credential": admin, "api_requests": 4, **zero},
            {"day": today, "credential": analyst, "api_requests": 2, **zero},
        ],
        key=lambda row: str(row["credential"]),
    )
    assert before.json()["data"]["days"] == expected
    assert _stored(quota.tenant) == {
        (today, admin, "api_requests"): 4,
        (today, analyst, "api_requests"): 2,
    }
    assert after.json()["data"]["days"][0 if admin < analyst else 1]["api_requests"] == 5
    quotas = {q["metric"]: q for q in after.json()["data"]["quotas"]}
    assert quotas["api_requests"]["used"] == 7
    assert quotas["api_requests"]["limit"] is None and quotas["api_requests"]["remaining"] is None
    assert quotas["rows_served"]["limit"] == 10_000_000


def test_counts_fall_on_the_utc_day_they_happened(world):
    quota = quota_tenant()
    for now, times in ((D1, 2), (D2, 3)):
        for _ in range(times):
            usage_take(tenant=quota.tenant, credential="token:1", metric="api_requests", now=now)
    usage_take(tenant=quota.tenant, credential="token:2", metric="rows_served", amount=250, now=D2)

    usage_flush()

    assert _stored(quota.tenant) == {
        ("2031-03-30", "token:1", "api_requests"): 2,
        ("2031-03-31", "token:1", "api_requests"): 3,
        ("2031-03-31", "token:2", "rows_served"): 250,
    }


def test_a_second_flush_adds_only_what_came_since(world):
    quota = quota_tenant()
    usage_take(tenant=quota.tenant, credential="token:1", metric="api_requests", amount=5, now=D1)
    usage_flush()
    usage_flush()  # nothing new: nothing changes
    usage_take(tenant=quota.tenant, credential="token:1", metric="api_requests", amount=2, now=D1)

    usage_flush()

    assert _stored(quota.tenant) == {("2031-03-30", "token:1", "api_requests"): 7}


def test_a_flush_that_died_after_moving_the_counts_loses_nothing(world):
    quota = quota_tenant()
    usage_take(tenant=quota.tenant, credential="token:1", metric="api_requests", amount=5, now=D1)
    meters.meter_move_dirty()  # ... and the flush died here
    usage_take(tenant=quota.tenant, credential="token:1", metric="api_requests", amount=1, now=D1)

    usage_flush()

    assert _stored(quota.tenant) == {("2031-03-30", "token:1", "api_requests"): 6}


def test_a_flush_that_died_after_committing_a_batch_does_not_count_it_twice(world):
    quota = quota_tenant()
    usage_take(tenant=quota.tenant, credential="token:1", metric="api_requests", amount=5, now=D1)
    batches = meters.meter_move_dirty()
    for key in batches:
        usage_batch_apply(key=key)  # committed; the flush died before deleting the batch from Redis

    usage_flush()

    assert _stored(quota.tenant) == {("2031-03-30", "token:1", "api_requests"): 5}
    assert UsageFlushBatch.objects.filter(batch__in=[meters.batch_parts(k)[2] for k in batches]).count()


def test_a_flush_racing_another_on_the_same_batch_applies_it_once(world):
    quota = quota_tenant()
    usage_take(tenant=quota.tenant, credential="token:1", metric="api_requests", amount=5, now=D1)
    batch = [k for k in meters.meter_move_dirty() if quota.tenant.schema_name in k][0]
    first = usage_batch_apply(key=batch)

    second = usage_batch_apply(key=batch)  # the other flush read the same batch
    usage_flush()

    assert (first, second) == (1, 0)
    assert _stored(quota.tenant) == {("2031-03-30", "token:1", "api_requests"): 5}


def test_concurrent_flushes_in_threads_count_every_request_once(committed_world):
    """Four flushes at once while 400 counts arrive from four threads (committed: threads have their own
    connections). Acme's rows of a day nobody else uses, removed afterwards."""
    acme = Tenant.objects.select_related("plan").get(schema_name="acme")
    day = dt.datetime(2002, 2, 2, 12, tzinfo=dt.UTC)
    errors: list[BaseException] = []

    def count(worker: int) -> None:
        try:
            for _ in range(100):
                usage_take(tenant=acme, credential=f"race:{worker % 2}", metric="api_requests", now=day)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    def flush() -> None:
        try:
            for _ in range(5):
                usage_flush()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=count, args=(i,)) for i in range(4)]
    threads += [threading.Thread(target=flush) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        usage_flush()

        assert errors == []
        stored = UsageDay.objects.filter(tenant=acme, day=day.date())
        assert {row.credential: row.count for row in stored} == {"race:0": 200, "race:1": 200}
    finally:
        UsageDay.objects.filter(tenant=acme, day=day.date()).delete()
