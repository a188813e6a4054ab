"""The fundamentals under v2: cursor pages with links, v2 meta, problems; licensed like v1."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.world import World


@pytest.fixture
def acme(loaded: Any, world: World) -> dict[str, str]:
    return world.acme.auth("admin")


def test_series_list_pages_by_cursor(acme, api):
    first = api.get("/api/v2/series", {"provider": "FRED", "limit": 2}, **acme).json()
    second = api.get(first["links"]["next"], **acme).json()

    assert [s["id"] for s in first["data"]] == ["FRED:CPIAUCSL", "FRED:DGS10"]
    assert [s["id"] for s in second["data"]] == ["FRED:FEDFUNDS", "FRED:GDP"]
    assert first["meta"]["version"] == "v2" and first["meta"]["has_more"] is True
    assert first["data"][1]["licence"] == "feed:fred"


def test_series_detail_and_observations(acme, api):
    detail = api.get("/api/v2/series/EIA:NG.RNGWHHD.D", **acme)
    observations = api.get("/api/v2/series/FRED:DGS10/observations", {"limit": 10}, **acme).json()

    assert detail.status_code == 200
    assert detail.json()["data"]["title"] == "Henry Hub Natural Gas Spot Price"
    assert [(o["period"], o["value"], o["value_raw"]) for o in observations["data"]][-2:] == [
        ("2024-05-02", 4.15, "4.15"),
        ("2024-05-03", None, "."),
    ]
    assert all(isinstance(o["fetch_run_id"], int) for o in observations["data"])


def test_lmp_and_aggregates(acme, api):
    points = api.get("/api/v2/iso/lmp", {"iso_code": "MISO"}, **acme).json()
    daily = api.get("/api/v2/iso/lmp/aggregates", {"iso_code": "CAISO", "bucket": "day"}, **acme).json()

    assert [(p["location_id"], p["interval_start"], p["price_total"]) for p in points["data"]] == [
        ("ALTW.ALTW", "2024-01-15T07:15:00Z", 38.92),
        ("CIN.CIN", "2024-01-15T07:15:00Z", 42.67),
        ("ALTW.ALTW", "2024-01-15T07:30:00Z", 41.23),
    ]
    assert [(a["location_id"], a["sample_count"], a["price_min"]) for a in daily["data"]] == [
        ("TH_NP15_GEN-APND", 2, 45.67),
        ("TH_SP15_GEN-APND", 3, -4.25),
    ]


def test_eia_datasets_and_drought(acme, api):
    datasets = api.get("/api/v2/eia/datasets", {"prefix": "natural-gas/pri"}, **acme).json()
    one = api.get("/api/v2/eia/datasets/natural-gas/pri/fut", **acme).json()
    usdm = api.get("/api/v2/drought/usdm", {"region": "STATE:TX"}, **acme).json()

    assert [d["path"] for d in datasets["data"]] == [
        "natural-gas/pri/fut",
        "natural-gas/pri/rescom",
        "natural-gas/pri/sum",
    ]
    assert one["data"]["data_columns"] == ["value"]
    assert [(u["region_id"], u["valid_date"], u["d4_frac"]) for u in usdm["data"]] == [
        ("TX", "2024-01-09", 0.0203)
    ]


def test_unlicensed_series_is_a_404_problem_and_lists_are_empty(loaded, world, api):
    auth = world.globex.auth("admin")

    response = api.get("/api/v2/series/FRED:DGS10", **auth)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert api.get("/api/v2/series", **auth).json()["data"] == []
    assert api.get("/api/v2/iso/lmp", **auth).json()["data"] == []


def test_offset_is_refused_under_v2(acme, api):
    response = api.get("/api/v2/series", {"offset": 2}, **acme)

    assert response.status_code == 400
