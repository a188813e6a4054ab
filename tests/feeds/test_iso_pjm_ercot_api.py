"""PJM and ERCOT LMPs through the existing routes (``/v1/iso/lmp/*`` validated against the original's
contract, ``/api/v2/iso/lmp``), licensed by ``iso:pjm`` / ``iso:ercot`` like the other ISOs: unlicensed, an
ISO's rows are simply not there."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.contract import assert_contract
from tests.support.world import World


@pytest.fixture
def globex(loaded: Any, world: World) -> dict[str, str]:
    """Globex (no feed licence of its plan) with the two new ISOs by entitlement."""
    from tenants.models import Tenant
    from tenants.services import entitlement_grant

    tenant = Tenant.objects.get(pk=world.globex.pk)
    entitlement_grant(tenant=tenant, dataset="iso:pjm")
    entitlement_grant(tenant=tenant, dataset="iso:ercot")
    return world.globex.auth("admin")


def test_v1_last_24h_of_pjm_is_anchored_at_its_newest_interval(globex, api):
    response = api.get("/v1/iso/lmp/last-24h", {"iso_code": "pjm", "market": "DAY_AHEAD"}, **globex)

    assert_contract("/v1/iso/lmp/last-24h", response)
    rows = response.json()["data"]
    # The newest interval (hour ending 24:00 EST, 04:00Z) and the 24 hours before it, inclusive: the whole
    # 25-hour fall-back day, two nodes.
    assert response.json()["meta"]["count"] == 50
    assert (rows[0]["interval_start"], rows[0]["location_id"], rows[0]["market"]) == (
        "2024-11-04T04:00:00Z",
        "51192",
        "DAY_AHEAD",
    )
    assert {r["iso_code"] for r in rows} == {"PJM"}


def test_v1_hourly_aggregates_ercot_real_time_quarter_hours(globex, api):
    response = api.get(
        "/v1/iso/lmp/hourly",
        {"iso_code": "ERCOT", "market": "REAL_TIME", "location_id": "HB_NORTH"},
        **globex,
    )

    assert_contract("/v1/iso/lmp/hourly", response)
    hours = [
        (r["interval_start"], r["price_min"], r["price_max"], r["sample_count"])
        for r in response.json()["data"]
    ]
    # 01:00 CDT and 01:00 CST are two UTC hours of four quarter hours each.
    assert sorted(hours) == [
        ("2024-11-03T06:00:00Z", 15.7, 16.75, 4),
        ("2024-11-03T07:00:00Z", 14.9, 15.95, 4),
    ]


def test_v2_pages_ercot_day_ahead_with_lineage(globex, api):
    first = api.get(
        "/api/v2/iso/lmp",
        {"iso_code": "ERCOT", "market": "DAY_AHEAD", "location_id": "HB_HOUSTON", "limit": 2},
        **globex,
    ).json()

    assert [(r["interval_start"], r["price_total"]) for r in first["data"]] == [
        ("2024-11-03T05:00:00Z", 28.0),
        ("2024-11-03T06:00:00Z", 27.42),
    ]
    assert all(isinstance(r["fetch_run_id"], int) for r in first["data"])
    assert first["meta"]["has_more"] is True
    second = api.get(first["links"]["next"], **globex).json()
    assert [r["interval_start"] for r in second["data"]] == ["2024-11-03T07:00:00Z", "2024-11-03T08:00:00Z"]


def test_without_the_licence_the_isos_rows_are_not_served(loaded, world, api):
    auth = world.globex.auth("admin")

    assert api.get("/v1/iso/lmp/last-24h", {"iso_code": "PJM"}, **auth).json()["data"] == []
    assert api.get("/api/v2/iso/lmp", {"iso_code": "ERCOT"}, **auth).json()["data"] == []


def test_acme_sees_its_isos_only(loaded, world, api):
    rows = api.get("/api/v2/iso/lmp", {"limit": 100}, **world.acme.auth("admin")).json()["data"]

    assert {r["iso_code"] for r in rows} == {"CAISO", "MISO"}
