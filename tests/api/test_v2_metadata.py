"""v2 reference metadata: the same data as v1 with the v2 meta, and problem details for errors."""

import pytest


@pytest.fixture
def get(api, world):
    def _get(path: str, **params: str):
        return api.get(f"/api{path}", params, **world.acme.auth("viewer"))

    return _get


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/metadata/locations", {"iso": "pjm"}),
        ("/metadata/units", {}),
        ("/metadata/units/mapping", {"prefix": "usd"}),
        ("/metadata/calendars", {}),
    ],
)
def test_v2_metadata_is_v1_data_with_v2_meta(get, path, params):
    v1 = get("/v1" + path, **params)
    v2 = get("/v2" + path, **params)

    assert v2.status_code == 200
    assert v2.json()["data"] == v1.json()["data"] and v2.json()["data"]
    meta = v2.json()["meta"]
    assert (meta["version"], meta["tenant_id"]) == ("v2", "acme")
    assert "Deprecation" not in v2 and v1["Deprecation"] == "true"
    assert v2["ETag"] == v1["ETag"]


def test_v2_calendar_hours_and_errors(get):
    name = get("/v2/metadata/calendars").json()["data"][0]["name"]
    block = get(f"/v2/metadata/calendars/{name}/blocks").json()["data"][0]
    hours = get(f"/v2/metadata/calendars/{name}/hours", block=block, date="2025-09-12")
    v1_hours = get(f"/v1/metadata/calendars/{name}/hours", block=block, date="2025-09-12")
    unknown = get("/v2/metadata/locations/PJM/NOPE")
    bad = get(f"/v2/metadata/calendars/{name}/expand", block=block, start="2025-09-12", end="2025-01-01")

    assert hours.json()["data"] == v1_hours.json()["data"]
    assert unknown.status_code == 404 and unknown["Content-Type"] == "application/problem+json"
    assert bad.status_code == 400 and bad.json()["detail"] == "end: end must not be before start."
