"""``GET /api/v2/usage``: admins only (``usage:read``), a bounded range of days, one tenant's usage only."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from apps.usage.services import usage_flush, usage_take
from tests.support.usage import quota_tenant


def test_usage_needs_usage_read(api, world):
    assert api.get("/api/v2/usage", **world.acme.auth("analyst")).status_code == 403
    assert api.get("/api/v2/usage", **world.acme.auth("trader")).status_code == 403
    assert api.get("/api/v2/usage", **world.acme.auth("admin")).status_code == 200


def test_a_token_of_an_admin_without_the_scope_may_not_read_usage(api, world):
    from apps.accounts.models import Membership
    from apps.accounts.services import api_token_create

    membership = Membership.objects.get(pk=world.acme.members["admin"].membership_id)
    _, raw = api_token_create(membership=membership, name="read only", scopes=["curves:read"])

    response = api.get("/api/v2/usage", HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert response.status_code == 403
    assert response.json()["detail"] == "This needs the permission 'usage:read'."


def test_a_range_shows_each_day_and_a_range_over_366_days_is_refused(api, world):
    quota = quota_tenant()
    for day, times in (
        (dt.datetime(2030, 1, 31, 12, tzinfo=dt.UTC), 2),
        (dt.datetime(2030, 2, 1, tzinfo=dt.UTC), 1),
    ):
        for _ in range(times):
            usage_take(tenant=quota.tenant, credential="token:9", metric="api_requests", now=day)
    usage_flush()
    usage_take(
        tenant=quota.tenant,
        credential="token:9",
        metric="rows_served",
        amount=7,
        now=dt.datetime(2030, 2, 1, tzinfo=dt.UTC),
    )

    ok = api.get("/api/v2/usage?from=2030-01-31&to=2030-02-01", **quota.auth())
    only_first = api.get("/api/v2/usage?from=2030-01-31&to=2030-01-31", **quota.auth())
    longest = api.get("/api/v2/usage?from=2030-01-01&to=2031-01-01", **quota.auth())  # 366 days
    too_long = api.get("/api/v2/usage?from=2030-01-01&to=2031-01-02", **quota.auth())
    backwards = api.get("/api/v2/usage?from=2030-02-01&to=2030-01-31", **quota.auth())
    not_a_date = api.get("/api/v2/usage?from=yesterday", **quota.auth())

    zero = {"rows_served": 0, "scenario_runs": 0, "export_rows": 0}
    assert ok.json()["data"]["days"] == [
        {"day": "2030-01-31", "credential": "token:9", "api_requests": 2, **zero},
        {"day": "2030-02-01", "credential": "token:9", "api_requests": 1, **zero, "rows_served": 7},
    ]
    assert (ok.json()["data"]["from"], ok.json()["data"]["to"]) == ("2030-01-31", "2030-02-01")
    assert [d["day"] for d in only_first.json()["data"]["days"]] == ["2030-01-31"]
    assert longest.status_code == 200
    assert too_long.status_code == 400
    assert too_long["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in too_long.json()["errors"]] == ["to"]
    assert backwards.status_code == 400
    assert not_a_date.status_code == 400
    assert [e["field"] for e in not_a_date.json()["errors"]] == ["from"]


def test_the_default_range_is_this_month(api, world):
    quota = quota_tenant()
    today = timezone.now().date()

    data = api.get("/api/v2/usage", **quota.auth()).json()["data"]

    assert (data["from"], data["to"]) == (today.replace(day=1).isoformat(), today.isoformat())
    assert data["days"] == [
        {
            "day": today.isoformat(),
            "credential": quota.credential(),
            "api_requests": 1,
            "rows_served": 0,
            "scenario_runs": 0,
            "export_rows": 0,
        }
    ]


def test_a_tenant_never_sees_another_tenants_usage(api, world):
    ours, theirs = quota_tenant(), quota_tenant()
    for _ in range(3):
        api.get("/api/v2/me", **theirs.auth("analyst"))

    data = api.get("/api/v2/usage", **ours.auth()).json()["data"]

    assert [row["credential"] for row in data["days"]] == [ours.credential()]
    assert {q["metric"]: q["used"] for q in data["quotas"]}["api_requests"] == 1
