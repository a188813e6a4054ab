"""/api/v2/watchlist and /api/v2/notices: follow, re-threshold, unfollow; list and mark notices read; each
member sees their own; the token's scope decides."""

from __future__ import annotations

from datetime import date

import pytest
from django_tenants.utils import schema_context

from apps.accounts.models import Membership
from apps.accounts.services import api_token_create
from apps.curves.models import Curve
from apps.watchlists.services import watchlist_vintage_published
from tenants.models import Tenant

EUGP = "vendor:EUGP"
DAY3 = date(2025, 7, 3)


@pytest.fixture
def curve_key(lake) -> str:
    return (
        Curve.objects.filter(dataset=EUGP, location="German", block="BASE").order_by("curve_key")[0].curve_key
    )


def test_follow_list_update_unfollow(world, api, curve_key):
    auth = world.acme.auth("analyst")

    created = api.post(
        "/api/v2/watchlist", {"curve_key": curve_key, "threshold_pct": 2.5}, format="json", **auth
    )
    again = api.post("/api/v2/watchlist", {"curve_key": curve_key, "threshold_abs": 1}, format="json", **auth)
    listed = api.get("/api/v2/watchlist", **auth)
    patched = api.patch(
        f"/api/v2/watchlist/{curve_key}",
        {"threshold_abs": None, "threshold_pct": 3, "tenor": "front"},
        format="json",
        **auth,
    )
    deleted = api.delete(f"/api/v2/watchlist/{curve_key}", **auth)
    gone = api.get(f"/api/v2/watchlist/{curve_key}", **auth)

    assert created.status_code == 201, created.content
    assert created["Location"].endswith(f"/api/v2/watchlist/{curve_key}")
    body = created.json()["data"]
    assert (body["curve_key"], body["threshold_pct"], body["threshold_abs"], body["tenor"]) == (
        curve_key,
        2.5,
        None,
        "",
    )
    move = body["latest_move"]
    assert (move["prev_asof"], move["asof"]) == ("2025-07-02", "2025-07-03")
    assert again.status_code == 200 and again.json()["data"]["threshold_abs"] == 1.0
    assert [item["curve_key"] for item in listed.json()["data"]] == [curve_key]
    assert patched.status_code == 200, patched.content
    assert (patched.json()["data"]["threshold_abs"], patched.json()["data"]["tenor"]) == (None, "front")
    assert patched.json()["data"]["threshold_pct"] == 3.0
    assert (
        patched.json()["data"]["latest_move"]["tenor"] == "2025-07"
    )  # the first contract month in both vintages
    assert deleted.status_code == 204
    assert gone.status_code == 404 and gone["Content-Type"] == "application/problem+json"


def test_bad_input_is_a_problem_naming_the_field(world, api, curve_key):
    auth = world.acme.auth("analyst")
    cases = [
        ({"curve_key": curve_key, "threshold_pct": -3}, "threshold_pct"),
        ({"curve_key": curve_key, "tenor": "1999-01"}, "tenor"),
        ({"curve_key": curve_key, "treshold_pct": 3}, "treshold_pct"),
        ({}, "curve_key"),
    ]
    for body, field in cases:
        response = api.post("/api/v2/watchlist", body, format="json", **auth)
        assert response.status_code == 400, (body, response.content)
        assert field in {error["field"] for error in response.json()["errors"]}, response.json()
    assert api.get("/api/v2/watchlist", **auth).json()["data"] == []


def test_unlicensed_curve_is_404_and_another_member_s_follow_is_not_seen(world, api, curve_key):
    rp_key = Curve.objects.filter(dataset="vendor:RP").values_list("curve_key", flat=True)[0]
    api.post("/api/v2/watchlist", {"curve_key": curve_key}, format="json", **world.acme.auth("analyst"))

    unlicensed = api.post(
        "/api/v2/watchlist", {"curve_key": rp_key}, format="json", **world.globex.auth("analyst")
    )
    viewer = api.get("/api/v2/watchlist", **world.acme.auth("viewer"))
    viewer_item = api.get(f"/api/v2/watchlist/{curve_key}", **world.acme.auth("viewer"))

    assert unlicensed.status_code == 404
    assert viewer.status_code == 200 and viewer.json()["data"] == []
    assert viewer_item.status_code == 404


def test_a_token_without_curves_read_is_403(world, api):
    member = Membership.objects.get(pk=world.acme.members["analyst"].membership_id)
    _, raw = api_token_create(membership=member, name="scenarios only", scopes=["scenarios:read"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    assert api.get("/api/v2/watchlist", **auth).status_code == 403
    assert api.get("/api/v2/notices", **auth).status_code == 403
    assert api.post("/api/v2/notices/read", {}, format="json", **auth).status_code == 403


def test_notices_unread_first_and_mark_read(world, api, curve_key):
    auth = world.acme.auth("analyst")
    api.post("/api/v2/watchlist", {"curve_key": curve_key, "threshold_abs": 0.0001}, format="json", **auth)
    with schema_context("acme"):
        tenant = Tenant.objects.select_related("plan").get(schema_name="acme")
        (notice,) = watchlist_vintage_published(tenant=tenant, dataset=EUGP, asof=DAY3)

    unread = api.get("/api/v2/notices?unread=true", **auth).json()["data"]
    other = api.get("/api/v2/notices", **world.acme.auth("viewer")).json()["data"]
    marked = api.post("/api/v2/notices/read", {"ids": [notice.pk]}, format="json", **auth)
    after = api.get(f"/api/v2/notices/{notice.pk}", **auth).json()["data"]
    bad = api.get("/api/v2/notices?unread=maybe", **auth)

    assert [(n["id"], n["curve_key"], n["asof"], n["prev_asof"], n["read"]) for n in unread] == [
        (notice.pk, curve_key, "2025-07-03", "2025-07-02", False)
    ]
    assert unread[0]["diff_abs"] == pytest.approx(notice.diff_abs)
    assert other == []
    assert marked.json()["data"] == {"marked": 1}
    assert after["read"] is True and after["read_at"] is not None
    assert api.get("/api/v2/notices?unread=true", **auth).json()["data"] == []
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "unread"
