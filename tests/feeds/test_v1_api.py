"""The original contract's fundamentals paths, answered from the recorded fetches and the catalog, each body
validated against openapi-spec-v1.yaml; the same at /v1/ and /api/v1/."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.contract import assert_contract
from tests.support.world import World


@pytest.fixture
def acme(loaded: Any, world: World) -> dict[str, str]:
    return world.acme.auth("admin")


def test_lmp_last_24h_is_newest_first_within_a_day_of_the_newest_interval(acme, api):
    response = api.get("/v1/iso/lmp/last-24h", {"iso_code": "caiso"}, **acme)

    assert_contract("/v1/iso/lmp/last-24h", response)
    rows = response.json()["data"]
    assert [(r["interval_start"], r["location_id"], r["price_total"]) for r in rows] == [
        ("2024-01-15T09:00:00Z", "TH_SP15_GEN-APND", -4.25),
        ("2024-01-15T08:00:00Z", "TH_NP15_GEN-APND", 52.14),
        ("2024-01-15T08:00:00Z", "TH_SP15_GEN-APND", 55.78),
        ("2024-01-15T07:00:00Z", "TH_NP15_GEN-APND", 45.67),
        ("2024-01-15T07:00:00Z", "TH_SP15_GEN-APND", 48.92),
    ]
    assert rows[0]["delivery_date"] == "2024-01-15" and rows[0]["market"] == "DAY_AHEAD"
    assert response.json()["meta"]["count"] == 5


def test_lmp_negative_lists_prices_below_zero(acme, api):
    response = api.get("/v1/iso/lmp/negative", **acme)

    assert_contract("/v1/iso/lmp/negative", response)
    assert [(r["iso_code"], r["location_id"], r["price_total"]) for r in response.json()["data"]] == [
        ("CAISO", "TH_SP15_GEN-APND", -4.25)
    ]


def test_lmp_hourly_aggregates_per_location_and_hour(acme, api):
    response = api.get("/v1/iso/lmp/hourly", {"iso_code": "MISO"}, **acme)

    assert_contract("/v1/iso/lmp/hourly", response)
    assert response.json()["data"] == [
        {
            "iso_code": "MISO",
            "market": "REAL_TIME",
            "interval_start": "2024-01-15T07:00:00Z",
            "location_id": "ALTW.ALTW",
            "currency": "USD",
            "uom": "MWh",
            "price_avg": 40.075,
            "price_min": 38.92,
            "price_max": 41.23,
            "price_stddev": pytest.approx(1.633417, abs=1e-6),
            "sample_count": 2,
        },
        {
            "iso_code": "MISO",
            "market": "REAL_TIME",
            "interval_start": "2024-01-15T07:00:00Z",
            "location_id": "CIN.CIN",
            "currency": "USD",
            "uom": "MWh",
            "price_avg": 42.67,
            "price_min": 42.67,
            "price_max": 42.67,
            "price_stddev": None,
            "sample_count": 1,
        },
    ]


def test_lmp_daily_with_a_range_and_csv(acme, api):
    json_body = api.get("/v1/iso/lmp/daily", {"iso_code": "CAISO", "start": "2024-01-15T00:00:00Z"}, **acme)
    as_csv = api.get("/v1/iso/lmp/daily", {"iso_code": "CAISO", "format": "csv"}, **acme)
    none = api.get("/v1/iso/lmp/daily", {"iso_code": "CAISO", "start": "2024-01-16T00:00:00Z"}, **acme)

    assert_contract("/v1/iso/lmp/daily", json_body)
    assert [(r["location_id"], r["sample_count"], r["price_max"]) for r in json_body.json()["data"]] == [
        ("TH_NP15_GEN-APND", 2, 52.14),
        ("TH_SP15_GEN-APND", 3, 55.78),
    ]
    assert as_csv["Content-Type"] == "text/csv; charset=utf-8"
    assert as_csv.content.decode().splitlines()[0].startswith("iso_code,market,interval_start,location_id")
    assert none.json()["data"] == []


def test_eia_datasets_and_one_dataset(acme, api):
    listed = api.get("/v1/metadata/eia/datasets", {"prefix": "natural-gas/pri"}, **acme)
    one = api.get("/v1/metadata/eia/datasets/natural-gas/pri/fut", **acme)
    missing = api.get("/v1/metadata/eia/datasets/natural-gas/none", **acme)

    assert_contract("/v1/metadata/eia/datasets", listed)
    assert_contract("/v1/metadata/eia/datasets/{dataset_path}", one)
    assert [d["path"] for d in listed.json()["data"]] == [
        "natural-gas/pri/fut",
        "natural-gas/pri/rescom",
        "natural-gas/pri/sum",
    ]
    assert one.json()["data"]["path"] == "natural-gas/pri/fut"
    assert one.json()["data"]["default_frequency"] == "weekly"
    assert missing.status_code == 404


def test_eia_series_pages_with_signed_cursors(acme, api):
    first = api.get("/v1/ref/eia/series", {"series_id": "NG.RNGWHHD.D", "limit": 3}, **acme)
    second = api.get(
        "/v1/ref/eia/series",
        {"series_id": "NG.RNGWHHD.D", "limit": 3, "cursor": first.json()["meta"]["next_cursor"]},
        **acme,
    )

    assert_contract("/v1/ref/eia/series", first)
    assert_contract("/v1/ref/eia/series", second)
    assert [r["period"] for r in first.json()["data"]] == ["2024-04-29", "2024-04-30", "2024-05-01"]
    assert [(r["period"], r["value"]) for r in second.json()["data"]] == [
        ("2024-05-02", 1.96),
        ("2024-05-03", 2.02),
    ]
    row = first.json()["data"][2]
    assert (row["value"], row["unit"], row["canonical_unit"], row["canonical_currency"], row["source"]) == (
        2.15,
        "$/MMBTU",
        "MMBtu",
        "USD",
        "EIA",
    )
    assert second.json()["meta"]["has_more"] is False


def test_eia_series_dimensions(acme, api):
    response = api.get("/v1/ref/eia/series/dimensions", **acme)

    assert_contract("/v1/ref/eia/series/dimensions", response)
    assert response.json()["data"] == {
        "dataset": ["natural-gas/pri/fut"],
        "area": ["NA"],
        "sector": ["Spot Price"],
        "unit": ["$/MMBTU"],
        "canonical_unit": ["MMBtu"],
        "canonical_currency": ["USD"],
        "frequency": ["DAILY"],
        "source": ["EIA"],
    }


def test_external_providers_and_metadata(acme, api):
    providers = api.get("/v1/external/providers", **acme)
    metadata = api.get("/v1/metadata/external", {"include_counts": "true"}, **acme)

    assert_contract("/v1/external/providers", providers)
    assert_contract("/v1/metadata/external", metadata)
    counts = {p["id"]: p["series_count"] for p in providers.json()["data"]}
    assert counts == {"EIA": 1, "FRED": 5, "NOAA": 90}
    assert metadata.json()["total_series"] == 96


def test_external_series_and_observations(acme, api):
    series = api.get("/v1/external/series", {"provider": "FRED"}, **acme)
    observations = api.get("/v1/external/series/FRED:DGS10/observations", **acme)
    bounded = api.get("/v1/external/series/FRED:DGS10/observations", {"start_date": "2024-05-01"}, **acme)

    assert_contract("/v1/external/series", series)
    assert_contract("/v1/external/series/{series_id}/observations", observations)
    dgs10 = next(s for s in series.json()["data"] if s["id"] == "FRED:DGS10")
    assert (dgs10["observation_count"], dgs10["frequency"], dgs10["units"]) == (5, "DAILY", "PCT")
    # 2024-05-03 is "." (missing) at FRED: left out, the contract's value is a number
    assert [(o["observation_date"], o["value"]) for o in observations.json()["data"]] == [
        ("2024-04-29", 4.61),
        ("2024-04-30", 4.69),
        ("2024-05-01", 4.12),
        ("2024-05-02", 4.15),
    ]
    assert [o["observation_date"] for o in bounded.json()["data"]] == ["2024-05-01", "2024-05-02"]


def test_drought_routes(acme, api):
    dimensions = api.get("/v1/drought/dimensions", **acme)
    usdm = api.get("/v1/drought/usdm", {"region": "STATE:CA"}, **acme)
    indices = api.get("/v1/drought/indices", {"index": "VHI"}, **acme)
    info = api.get("/v1/drought/info/nclimgrid/SPI/3M", {"valid_date": "2024-01-09"}, **acme)
    tile = api.get("/v1/drought/tiles/nclimgrid/SPI/3M/4/3/5.png", {"valid_date": "2024-01-09"}, **acme)

    assert_contract("/v1/drought/dimensions", dimensions)
    assert_contract("/v1/drought/usdm", usdm)
    assert_contract("/v1/drought/indices", indices)
    assert_contract("/v1/drought/info/{dataset}/{index}/{timescale}", info)
    assert [(r["valid_date"], r["d0_frac"], r["d1_frac"]) for r in usdm.json()["data"]] == [
        ("2024-01-09", 0.0827, 0.0),
        ("2024-01-02", 0.0989, 0.0125),
    ]
    assert indices.json()["data"] == []
    assert info.json()["data"]["tiles_available"] is False
    assert tile.status_code == 501
    assert tile["Content-Type"] == "application/problem+json"
    assert tile.json()["status"] == 501


def test_a_tenant_without_the_feed_licences_sees_nothing(loaded, world, api):
    auth = world.globex.auth("admin")

    assert api.get("/v1/iso/lmp/last-24h", **auth).json()["data"] == []
    assert api.get("/v1/external/providers", **auth).json()["data"] == []
    assert api.get("/v1/external/series", **auth).json()["data"] == []
    assert api.get("/v1/ref/eia/series", **auth).json()["data"] == []
    assert api.get("/v1/drought/usdm", **auth).json()["data"] == []
    assert api.get("/v1/external/series/FRED:DGS10/observations", **auth).status_code == 404


def test_an_entitlement_opens_one_feed(loaded, world, api):
    from tenants.models import Tenant
    from tenants.services import entitlement_grant

    entitlement_grant(tenant=Tenant.objects.get(pk=world.globex.pk), dataset="feed:fred")
    auth = world.globex.auth("admin")

    assert [p["id"] for p in api.get("/v1/external/providers", **auth).json()["data"]] == ["FRED"]
    assert api.get("/v1/external/series/FRED:DGS10/observations", **auth).status_code == 200
    assert api.get("/v1/iso/lmp/last-24h", **auth).json()["data"] == []


@pytest.mark.parametrize(
    "path",
    [
        "/v1/iso/lmp/last-24h?limit=501",
        "/v1/drought/indices?timescale=3X",
        "/v1/iso/lmp/hourly?start=yesterday",
    ],
)
def test_invalid_parameters_are_400(acme, api, path):
    response = api.get(path, **acme)

    assert response.status_code == 400


def test_drought_info_of_a_written_index_and_of_an_unknown_raster(acme, api):
    from tests.support.feeds import drought_indices_write

    drought_indices_write()

    info = api.get("/v1/drought/info/nclimgrid/SPI/3M", {"valid_date": "2024-01-09"}, **acme)
    unknown = api.get("/v1/drought/info/nosuch/SPI/3M", {"valid_date": "2024-01-09"}, **acme)
    indices = api.get("/v1/drought/indices", {"region": "STATE:TX"}, **acme)

    assert_contract("/v1/drought/info/{dataset}/{index}/{timescale}", info)
    assert_contract("/v1/drought/indices", indices)
    assert (info.json()["data"]["regions"], info.json()["data"]["min"], info.json()["data"]["max"]) == (
        3,
        -1.31,
        0.25,
    )
    assert unknown.status_code == 404
    assert [(r["series_id"], r["value"]) for r in indices.json()["data"]] == [
        ("nclimgrid:SPI:3M:STATE:TX", -1.31)
    ]
