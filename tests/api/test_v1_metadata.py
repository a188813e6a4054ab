"""v1 metadata endpoints on the real reference data, validated against the original OpenAPI contract."""

import csv
import json
from datetime import date, timedelta
from typing import Any

import pytest

from tests.support.contract import assert_contract
from tests.support.paths import FIXTURES


@pytest.fixture
def get(api, world):
    def _get(path: str, **params: str) -> Any:
        return api.get(f"/api{path}", params, **world.acme.auth("viewer"))

    return _get


def test_locations_list_filters_and_matches_the_contract(get):
    everything = get("/v1/metadata/locations")
    pjm = get("/v1/metadata/locations", iso="pjm")

    assert everything.status_code == 200
    assert_contract("/v1/metadata/locations", everything)
    with (FIXTURES / "aurum-original" / "iso_nodes.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(everything.json()["data"]) == len(rows)
    assert {r["iso"] for r in pjm.json()["data"]} == {"PJM"}
    assert len(pjm.json()["data"]) == sum(1 for r in rows if r["iso"] == "PJM")
    assert everything["Deprecation"] == "true"
    assert everything["X-API-Version"] == "v1"


def test_location_detail_and_unknown_location(get):
    with (FIXTURES / "aurum-original" / "iso_nodes.csv").open() as f:
        first = next(csv.DictReader(f))

    found = get(f"/v1/metadata/locations/{first['iso'].lower()}/{first['location_id']}")
    missing = get(f"/v1/metadata/locations/{first['iso']}/NOPE")

    assert found.status_code == 200
    assert_contract("/v1/metadata/locations/{iso}/{location_id}", found)
    assert found.json()["data"]["location_name"] == first["location_name"]
    assert missing.status_code == 404
    assert "NOPE" in missing.json()["detail"]


def test_iso_must_be_alphabetic(get):
    response = get("/v1/metadata/locations", iso="PJM1")

    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "iso must be alphabetic."


def test_units_and_mapping(get):
    with (FIXTURES / "aurum-original" / "units_map.csv").open() as f:
        rows = list(csv.DictReader(f))

    units = get("/v1/metadata/units")
    mapping = get("/v1/metadata/units/mapping")
    dollars = get("/v1/metadata/units/mapping", prefix="$")

    assert_contract("/v1/metadata/units", units)
    assert_contract("/v1/metadata/units/mapping", mapping)
    assert units.json()["data"]["currencies"] == sorted({r["currency"] for r in rows})
    assert units.json()["data"]["units"] == sorted({r["per_unit"] for r in rows})
    assert len(mapping.json()["data"]) == len(rows)
    assert {m["units_raw"] for m in dollars.json()["data"]} == {
        r["units_raw"] for r in rows if r["units_raw"].startswith("$")
    }


def test_calendars_blocks_hours_and_expand(get):
    calendars_file = json.loads((FIXTURES / "aurum-original" / "calendars.json").read_text())
    pjm = calendars_file["pjm"]

    calendars = get("/v1/metadata/calendars")
    blocks = get("/v1/metadata/calendars/pjm/blocks")
    hours = get("/v1/metadata/calendars/pjm/hours", block="ON_PEAK", date="2025-09-10")
    week = get("/v1/metadata/calendars/pjm/expand", block="ON_PEAK", start="2025-09-08", end="2025-09-14")

    for path, response in [
        ("/v1/metadata/calendars", calendars),
        ("/v1/metadata/calendars/{name}/blocks", blocks),
        ("/v1/metadata/calendars/{name}/hours", hours),
        ("/v1/metadata/calendars/{name}/expand", week),
    ]:
        assert response.status_code == 200, response.content
        assert_contract(path, response)
    assert {c["name"] for c in calendars.json()["data"]} == set(calendars_file)
    assert blocks.json()["data"] == sorted(pjm["blocks"])
    # A Wednesday in September: PJM ON_PEAK is 07..22 local time, Eastern daylight time (-04:00).
    assert hours.json()["data"] == [f"2025-09-10T{h:02d}:00:00-04:00" for h in range(7, 23)]
    holidays = {date.fromisoformat(d) for d in pjm.get("holidays", [])}
    weekdays = [date(2025, 9, 8) + timedelta(days=i) for i in range(7)]
    expected_days = [d for d in weekdays if d.isoweekday() <= 5 and d not in holidays]
    assert len(week.json()["data"]) == 16 * len(expected_days)


def test_calendar_refusals(get):
    assert get("/v1/metadata/calendars/nowhere/blocks").status_code == 404
    assert get("/v1/metadata/calendars/pjm/hours", block="NOPE", date="2025-09-10").status_code == 404
    too_long = get("/v1/metadata/calendars/pjm/expand", block="ON_PEAK", start="2024-01-01", end="2025-06-01")
    backwards = get(
        "/v1/metadata/calendars/pjm/expand", block="ON_PEAK", start="2025-02-01", end="2025-01-01"
    )
    assert too_long.status_code == backwards.status_code == 400
    assert too_long.json()["errors"][0]["field"] == "end"


def test_metadata_etag_and_304(get, api, world):
    first = get("/v1/metadata/calendars")

    again = api.get(
        "/api/v1/metadata/calendars", HTTP_IF_NONE_MATCH=first["ETag"], **world.acme.auth("viewer")
    )

    assert first["Cache-Control"].startswith("private, max-age=300")
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]


def test_metadata_needs_a_credential(api):
    assert api.get("/api/v1/metadata/calendars").status_code == 401


@pytest.mark.parametrize(
    ("path", "queries"),
    [
        ("/v1/metadata/locations", 2),
        ("/v1/metadata/units/mapping", 2),
        ("/v1/metadata/calendars", 2),
        ("/v1/metadata/calendars/pjm/blocks", 3),  # the calendar, then its blocks
    ],
)
def test_metadata_lists_pin_their_queries(get, django_assert_num_queries, path, queries):
    get("/v1/metadata/units")  # a token's first request of the minute stamps its last_used_at
    # The token, then the catalog (the connection already has the tenant's search_path, decision 0057).
    with django_assert_num_queries(queries):
        response = get(path)

    assert (
        response.status_code == 200 and response.json()["meta"]["count"] == len(response.json()["data"]) > 0
    )
