"""v2 reference metadata: the same data as v1 with the v2 meta, the catalogs as paged v2 lists (links, Link,
cursors), and problem details for errors."""

from urllib.parse import urlencode

import pytest

from aurum.api.conditional import etag_for


@pytest.fixture
def get(api, world):
    def _get(path: str, **params: str):
        return api.get(f"/api{path}", params, **world.acme.auth("viewer"))

    return _get


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/metadata/locations", {"iso": "pjm"}),
        ("/metadata/units/mapping", {"prefix": "usd"}),
        ("/metadata/calendars", {}),
        ("/metadata/calendars/pjm/blocks", {}),
    ],
)
def test_v2_catalogs_are_v1_data_as_v2_lists(get, path, params):
    v1 = get("/v1" + path, **params)
    v2 = get("/v2" + path, **params)

    assert v2.status_code == 200
    body = v2.json()
    assert body["data"] == v1.json()["data"] and body["data"]
    meta = body["meta"]
    assert (meta["version"], meta["tenant_id"], meta["has_more"], meta["limit"]) == ("v2", "acme", False, 100)
    assert meta["returned_count"] == len(body["data"])
    query = f"?{urlencode(params)}" if params else ""
    self_url = f"http://testserver/api/v2{path}{query}"
    assert body["links"] == {"self": self_url, "next": None, "prev": None}
    assert v2["Link"] == f'<{self_url}>; rel="self"'
    assert v2["ETag"] == etag_for(body) != v1["ETag"]  # the links are content
    assert v2["Cache-Control"] == "private, max-age=300, stale-while-revalidate=150, stale-if-error=900"
    assert "Deprecation" not in v2 and v1["Deprecation"] == "true"


def test_v2_units_is_the_v1_object_with_v2_meta(get):
    v1 = get("/v1/metadata/units")
    v2 = get("/v2/metadata/units")

    assert v2.json()["data"] == v1.json()["data"] and v2.json()["data"]["currencies"]
    assert (v2.json()["meta"]["version"], v2.json()["meta"]["returned_count"]) == ("v2", 1)
    assert v2["ETag"] == v1["ETag"]


def test_v2_locations_page_forward_and_back_through_every_location(get, api, world):
    everything = get("/v1/metadata/locations").json()["data"]
    pages, cursor = [], None
    while True:
        page = get("/v2/metadata/locations", limit="10", **({"cursor": cursor} if cursor else {})).json()
        pages.append(page)
        cursor = page["meta"].get("next_cursor")
        if cursor is None:
            break
    middle = get("/v2/metadata/locations", limit="10", cursor=pages[0]["meta"]["next_cursor"])
    middle_again = api.get(
        "/api/v2/metadata/locations",
        {"limit": "10", "cursor": pages[0]["meta"]["next_cursor"]},
        HTTP_IF_NONE_MATCH=middle["ETag"],
        **world.acme.auth("viewer"),
    )
    back = get("/v2/metadata/locations", limit="10", cursor=pages[1]["meta"]["prev_cursor"]).json()
    other_filter = get("/v2/metadata/locations", iso="PJM", cursor=pages[0]["meta"]["next_cursor"])

    assert len(everything) > 20  # three pages at least
    assert [row for page in pages for row in page["data"]] == everything
    assert [page["meta"]["has_more"] for page in pages] == [True] * (len(pages) - 1) + [False]
    assert pages[0]["links"]["next"].endswith("cursor=" + pages[0]["meta"]["next_cursor"])
    assert pages[0]["links"]["prev"] is None and pages[-1]["links"]["next"] is None
    assert back["data"] == pages[0]["data"]
    assert middle.json() == {**pages[1], "meta": middle.json()["meta"]}
    assert (middle_again.status_code, middle_again["ETag"]) == (304, middle["ETag"])
    assert other_filter.status_code == 400
    assert other_filter.json()["detail"] == "Cursor filters do not match"


def test_v2_calendar_hours_and_errors(get):
    name = get("/v2/metadata/calendars").json()["data"][0]["name"]
    block = get(f"/v2/metadata/calendars/{name}/blocks").json()["data"][0]
    hours = get(f"/v2/metadata/calendars/{name}/hours", block=block, date="2025-09-12")
    v1_hours = get(f"/v1/metadata/calendars/{name}/hours", block=block, date="2025-09-12")
    unknown = get("/v2/metadata/locations/PJM/NOPE")
    bad = get(f"/v2/metadata/calendars/{name}/expand", block=block, start="2025-09-12", end="2025-01-01")

    assert hours.json()["data"] == v1_hours.json()["data"]
    assert hours.json()["meta"]["returned_count"] == len(hours.json()["data"])
    assert unknown.status_code == 404 and unknown["Content-Type"] == "application/problem+json"
    assert unknown.json()["detail"] == "Unknown location 'NOPE' for ISO 'PJM'."
    assert bad.status_code == 400 and bad.json()["detail"] == "end: end must not be before start."


@pytest.mark.parametrize(
    ("path", "queries"),
    [
        ("/v2/metadata/locations", 2),
        ("/v2/metadata/units/mapping", 2),
        ("/v2/metadata/calendars", 2),
        ("/v2/metadata/calendars/pjm/blocks", 3),  # the calendar, then its blocks
    ],
)
def test_v2_metadata_lists_pin_their_queries(get, django_assert_num_queries, path, queries):
    get("/v2/metadata/units")  # a token's first request of the minute stamps its last_used_at
    # The token, then one page of the catalog (the tenant's search_path is set already, decision 0057).
    with django_assert_num_queries(queries):
        response = get(path, limit="2")

    assert response.status_code == 200 and response.json()["meta"]["returned_count"] == 2
