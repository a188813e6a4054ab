"""v2 curve reads over HTTP on real ingested days: paging with links, one curve, history, diff, movers,
exports in three formats, dimensions, problem details and the OpenAPI document."""

from __future__ import annotations

import csv
import io
from typing import Any

import pyarrow.parquet as pq
import pytest
from python_calamine import CalamineWorkbook

from tests.support.curves import a_curve, parsed
from tests.support.lake import EUGP_DAYS, RP_DAYS

D1, D2, D3 = EUGP_DAYS


@pytest.fixture
def get(api, read_world):
    def _get(path: str, tenant: str = "acme", **params: Any) -> Any:
        return api.get(f"/api{path}", params, **getattr(read_world, tenant).auth("viewer"))

    return _get


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_pages_carry_links_a_link_header_and_v2_meta(get):
    first = get("/v2/curves", tenor_type="MONTHLY", limit=30)
    body = first.json()
    second = get("/v2/curves", tenor_type="MONTHLY", limit=30, cursor=body["meta"]["next_cursor"]).json()
    both = get("/v2/curves", tenor_type="MONTHLY", limit=60).json()

    assert first.status_code == 200
    assert body["meta"]["version"] == "v2" and body["meta"]["tenant_id"] == "acme"
    assert body["meta"]["returned_count"] == 30 and body["meta"]["has_more"] is True
    assert body["links"]["next"].startswith("http://testserver/api/v2/curves?")
    assert "cursor=" in body["links"]["next"] and body["links"]["prev"] is None
    assert first["Link"] == f'<{body["links"]["self"]}>; rel="self", <{body["links"]["next"]}>; rel="next"'
    assert body["data"] + second["data"] == both["data"]
    assert {"currency", "per_unit", "is_derived", "dataset", "commodity"} <= set(body["data"][0])


def test_a_middle_page_keeps_its_etag_and_answers_304(get, api, read_world):
    cursor = get("/v2/curves", tenor_type="MONTHLY", limit=20).json()["meta"]["next_cursor"]
    middle = get("/v2/curves", tenor_type="MONTHLY", limit=20, cursor=cursor)
    again = api.get(
        "/api/v2/curves",
        {"tenor_type": "MONTHLY", "limit": 20, "cursor": cursor},
        HTTP_IF_NONE_MATCH=middle["ETag"],
        **read_world.acme.auth("viewer"),
    )

    links = middle.json()["links"]
    assert links["prev"] and links["next"]  # both cursors are in the body the ETag covers
    assert (again.status_code, again.content) == (304, b"")
    assert (again["ETag"], again["Link"]) == (middle["ETag"], middle["Link"])


def test_bad_and_foreign_cursors_are_problems(get):
    cursor = get("/v2/curves", tenor_type="MONTHLY", limit=5).json()["meta"]["next_cursor"]
    garbage = get("/v2/curves", cursor="not-a-cursor")
    other_filters = get("/v2/curves", tenor_type="CALENDAR", limit=5, cursor=cursor)

    assert garbage.status_code == 400
    assert garbage["Content-Type"] == "application/problem+json"
    assert garbage.json()["detail"] == "Invalid cursor" and garbage.json()["request_id"]
    assert (
        other_filters.status_code == 400 and other_filters.json()["detail"] == "Cursor filters do not match"
    )


def test_a_dataset_filter_narrows_the_read_to_that_dataset_of_the_licence(get):
    everything = get("/v2/curves", limit=1000).json()["data"]
    rp = get("/v2/curves", dataset="vendor:RP", limit=1000).json()
    eugp = get("/v2/curves", dataset="vendor:EUGP", limit=1000).json()["data"]
    not_licensed = get("/v2/curves", tenant="globex", dataset="vendor:RP").json()
    cursor = get("/v2/curves", dataset="vendor:RP", limit=5).json()["meta"]["next_cursor"]
    across = get("/v2/curves", dataset="vendor:EUGP", limit=5, cursor=cursor)

    assert {r["dataset"] for r in everything} == {"vendor:EUGP", "vendor:RP"}
    assert rp["data"] and {r["dataset"] for r in rp["data"]} == {"vendor:RP"}
    assert eugp and {r["dataset"] for r in eugp} == {"vendor:EUGP"}
    # Another tenant's dataset reads as nothing, not as its rows.
    assert not_licensed["data"] == [] and not_licensed["meta"]["returned_count"] == 0
    # The filter is part of what a page is cached and a cursor bound by.
    assert across.status_code == 400 and across.json()["detail"] == "Cursor filters do not match"
    assert get("/v1/curves", dataset="vendor:RP", limit=50).json()["data"][0]["curve_key"] in {
        r["curve_key"] for r in rp["data"]
    }


def test_one_curve_is_its_catalog_entry_and_every_latest_tenor(get):
    key = a_curve()
    response = get(f"/v2/curves/{key}")
    v1 = get("/v1/curves", curve_key=key, limit=500).json()["data"]

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["curve"]["curve_key"] == key and data["curve"]["dataset"] == "vendor:EUGP"
    assert data["curve"]["last_asof"] == D3.isoformat()
    points = [{k: p[k] for k in v1[0]} for p in data["points"]]
    assert points == v1
    expected = {k for k in parsed("EUGP", D3) if k[0] == key}
    assert expected <= {(p["curve_key"], p["tenor_label"]) for p in data["points"]}


def test_a_curve_outside_the_licence_or_unknown_is_404(get):
    rp_key = a_curve("RP", RP_DAYS[-1])
    hidden = get(f"/v2/curves/{rp_key}", tenant="globex")
    history = get(f"/v2/curves/{rp_key}/history", tenant="globex", tenor_label="2026-01")
    unknown = get("/v2/curves/nope")

    assert hidden.status_code == 404 and hidden["Content-Type"] == "application/problem+json"
    assert history.status_code == 404
    assert unknown.status_code == 404
    assert get(f"/v2/curves/{rp_key}").status_code == 200


def test_history_is_one_tenor_across_every_vintage(get):
    key = a_curve()
    tenor = next(
        t
        for k, t in sorted(parsed("EUGP", D1))
        if k == key and all((k, t) in parsed("EUGP", d) for d in EUGP_DAYS)
    )
    response = get(f"/v2/curves/{key}/history", tenor_label=tenor)

    rows = response.json()["data"]
    assert [r["asof_date"] for r in rows] == [d.isoformat() for d in EUGP_DAYS]
    assert [r["mid"] for r in rows] == pytest.approx(
        [parsed("EUGP", d)[(key, tenor)]["mid"] for d in EUGP_DAYS]
    )


def test_movers_rank_by_absolute_and_relative_move(get):
    by_abs = get("/v2/curves/movers", asof_a=D1.isoformat(), asof_b=D2.isoformat(), top=15).json()["data"]
    by_pct = get("/v2/curves/movers", asof_a=D1.isoformat(), asof_b=D2.isoformat(), top=15, by="pct").json()[
        "data"
    ]
    globex = get("/v2/curves/movers", tenant="globex", asof_a=D1.isoformat(), asof_b=D2.isoformat(), top=15)

    assert len(by_abs) == 15
    assert [abs(r["diff_abs"]) for r in by_abs] == sorted((abs(r["diff_abs"]) for r in by_abs), reverse=True)
    assert [abs(r["diff_pct"]) for r in by_pct] == sorted((abs(r["diff_pct"]) for r in by_pct), reverse=True)
    a, b = parsed("EUGP", D1), parsed("EUGP", D2)
    quoted = [r for r in by_abs if (r["curve_key"], r["tenor_label"]) in a]
    for r in quoted:
        k = (r["curve_key"], r["tenor_label"])
        assert r["diff_abs"] == pytest.approx(b[k]["mid"] - a[k]["mid"])
    rp_keys = {k[0] for k in parsed("RP", RP_DAYS[0])}
    assert not {r["curve_key"] for r in globex.json()["data"]} & rp_keys


def test_diff_v2_matches_v1(get):
    key = a_curve(day=D2)
    v1 = get("/v1/curves/diff", curve_key=key, asof_a=D1.isoformat(), asof_b=D2.isoformat(), limit=500)
    v2 = get("/v2/curves/diff", curve_key=key, asof_a=D1.isoformat(), asof_b=D2.isoformat(), limit=500)
    no_filter = get("/v2/curves/diff", asof_a=D1.isoformat(), asof_b=D2.isoformat())

    assert v2.json()["data"] == v1.json()["data"] and v2.json()["data"]
    assert no_filter.status_code == 400 and no_filter["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_exports_open_and_hold_what_the_json_says(get, fmt):
    key = a_curve()
    as_json = get("/v2/curves", curve_key=key, limit=1000).json()["data"]
    response = get("/v2/curves/export", curve_key=key, format=fmt)

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="curve_export_latest.{fmt}"'
    content = _body(response)
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(content.decode())))
        mids = [float(r["mid"]) if r["mid"] else None for r in rows]
        labels = [r["tenor_label"] for r in rows]
    elif fmt == "parquet":
        table = pq.read_table(io.BytesIO(content))
        mids, labels = table.column("mid").to_pylist(), table.column("tenor_label").to_pylist()
    else:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_name("curves").to_python()
        header = sheet[0]
        rows_x = [dict(zip(header, r, strict=True)) for r in sheet[1:]]
        mids = [float(r["mid"]) if r["mid"] != "" else None for r in rows_x]  # type: ignore[arg-type]
        labels = [str(r["tenor_label"]) for r in rows_x]
    assert labels == [r["tenor_label"] for r in as_json]
    assert mids == pytest.approx([r["mid"] for r in as_json])
    assert int(response["X-Row-Count"]) == len(as_json)


def test_a_range_export_has_every_vintage_and_oversized_exports_are_refused(get, settings):
    key = a_curve()
    response = get("/v2/curves/export", curve_key=key, start=D1.isoformat(), end=D3.isoformat())
    rows = list(csv.DictReader(io.StringIO(_body(response).decode())))
    settings.AURUM_EXPORT_MAX_ROWS = 10
    refused = get("/v2/curves/export", curve_key=key)

    per_day = {d.isoformat(): sum(1 for r in rows if r["asof_date"] == d.isoformat()) for d in EUGP_DAYS}
    for d in EUGP_DAYS:
        assert per_day[d.isoformat()] >= sum(1 for k in parsed("EUGP", d) if k[0] == key)
    assert refused.status_code == 400 and "10" in refused.json()["detail"]


def test_v2_dimensions_add_region_and_commodity(get):
    response = get("/v2/metadata/dimensions", include_counts="true")

    data = response.json()["data"]
    expected_commodities = {
        r["commodity"] for d in EUGP_DAYS for r in parsed("EUGP", d).values() if r["commodity"]
    }
    assert expected_commodities <= set(data["commodity"])
    assert "region" in data and response.json()["counts"]["commodity"]


def test_every_v2_curve_endpoint_is_documented_with_examples(api):
    schema = api.get("/api/v2/schema/", HTTP_ACCEPT="application/json").json()
    for path in (
        "/api/v2/curves",
        "/api/v2/curves/{curve_key}",
        "/api/v2/curves/{curve_key}/history",
        "/api/v2/curves/diff",
        "/api/v2/curves/strips",
        "/api/v2/curves/movers",
        "/api/v2/curves/export",
        "/api/v2/metadata/dimensions",
    ):
        operation = schema["paths"][path]["get"]
        assert operation["description"]
        assert operation["parameters"] or path.endswith("}")
        content = operation["responses"]["200"]["content"]
        if path.endswith("/export"):
            assert "text/csv" in content  # a file, not a JSON example
        else:
            assert content["application/json"]["examples"], path
        assert {"ApiToken": []} in operation["security"], path


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v2/curves", {"limit": 1000}),
        ("/v2/curves/diff", {"iso": "EU", "asof_a": D1.isoformat(), "asof_b": D2.isoformat()}),
        ("/v2/curves/strips", {"type": "CALENDAR", "limit": 500}),
        ("/v2/curves/movers", {"asof_a": D1.isoformat(), "asof_b": D2.isoformat(), "top": 100}),
        ("/v2/metadata/dimensions", {"include_counts": "true"}),
    ],
)
def test_v2_list_reads_pin_their_queries(get, settings, django_assert_num_queries, path, params):
    get("/v2/metadata/calendars")  # a token's first request of the minute stamps its last_used_at
    settings.AURUM_READ_CACHE = False
    # The token (with the tenant's entitlements), and the Iceberg catalog's pointer to the table read (the
    # connection already has the tenant's search_path from the request before, decision 0057).
    with django_assert_num_queries(2):
        computed = get(path, **params)
    settings.AURUM_READ_CACHE = True
    get(path, **params)
    with django_assert_num_queries(1):  # a page from the read cache reads no table
        cached = get(path, **params)

    assert computed.status_code == cached.status_code == 200
    assert computed["ETag"] == cached["ETag"]


def test_one_curve_reads_use_a_fixed_number_of_queries(get, settings, django_assert_num_queries):
    key = a_curve()
    get("/v2/metadata/calendars")  # the token's last use stamped, the tenant's search_path set
    get(f"/v2/curves/{key}")  # the curve's dataset, known to the process from then on
    settings.AURUM_READ_CACHE = False
    # A miss: the token (with the tenant's entitlements), then the curve's catalog row with the pointer of
    # the Iceberg table its points are read from; a hit needs only the token.
    for vintage in ({}, {"asof": D2.isoformat()}, {"as_known_at": D2.isoformat()}):
        with django_assert_num_queries(2):
            computed = get(f"/v2/curves/{key}", **vintage)
        assert computed.status_code == 200 and computed.json()["data"]["points"]
    settings.AURUM_READ_CACHE = True
    get(f"/v2/curves/{key}")
    with django_assert_num_queries(1):
        assert get(f"/v2/curves/{key}").status_code == 200
