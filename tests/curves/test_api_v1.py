"""v1 curve reads over HTTP on real ingested days, validated against the original OpenAPI contract."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aurum.api.cursors import cursor_encode
from aurum.api.paging import list_bound
from tests.support.contract import assert_contract
from tests.support.curves import a_curve, parsed
from tests.support.lake import EUGP_DAYS, RP_DAYS

D1, D2, D3 = EUGP_DAYS


@pytest.fixture
def get(api, read_world):
    def _get(path: str, tenant: str = "acme", headers: dict[str, str] | None = None, **params: Any) -> Any:
        auth = getattr(read_world, tenant).auth("viewer")
        return api.get(f"/api{path}", params, **auth, **(headers or {}))

    return _get


def test_latest_page_matches_the_contract_and_the_workbook(get):
    key = a_curve()
    response = get("/v1/curves", curve_key=key)

    assert response.status_code == 200
    assert_contract("/v1/curves", response)
    body = response.json()
    expected = {k: r for k, r in parsed("EUGP", D3).items() if k[0] == key}
    quoted = [r for r in body["data"] if (r["curve_key"], r["tenor_label"]) in expected]
    assert len(quoted) == len(expected)
    for row in quoted:
        assert row["asof_date"] == D3.isoformat()
        assert row["mid"] == pytest.approx(expected[(row["curve_key"], row["tenor_label"])]["mid"])
    assert body["meta"]["limit"] == 200 and body["meta"]["count"] == len(body["data"])
    assert [(r["curve_key"], r["tenor_label"]) for r in body["data"]] == sorted(
        (r["curve_key"], r["tenor_label"]) for r in body["data"]
    )
    assert response["Deprecation"] == "true" and response["X-API-Version"] == "v1"
    # spec 3.1: max-age=N, stale-while-revalidate=min(max(N/2,1),600), stale-if-error=min(3N,86400), N=120
    assert response["Cache-Control"] == "private, max-age=120, stale-while-revalidate=60, stale-if-error=360"


def test_asof_and_as_known_at(get):
    key = a_curve(day=D2)
    exact = get("/v1/curves", curve_key=key, asof=D2.isoformat()).json()["data"]
    known = get("/v1/curves", curve_key=key, as_known_at=D2.isoformat()).json()["data"]
    both = get("/v1/curves", curve_key=key, asof=D2.isoformat(), as_known_at=D2.isoformat())

    assert exact and {r["asof_date"] for r in exact} == {D2.isoformat()}
    assert known == exact
    assert both.status_code == 400


def test_cursor_pages_walk_forward_and_back_and_cover_offset_paging(get):
    first = get("/v1/curves", limit=50, tenor_type="MONTHLY").json()
    second = get("/v1/curves", limit=50, tenor_type="MONTHLY", cursor=first["meta"]["next_cursor"]).json()
    by_offset = get("/v1/curves", limit=100, tenor_type="MONTHLY", offset=0).json()
    back = get("/v1/curves", limit=50, tenor_type="MONTHLY", prev_cursor=second["meta"]["prev_cursor"]).json()

    assert first["meta"]["has_more"] is True and second["meta"]["offset"] == 50
    assert first["data"] + second["data"] == by_offset["data"]
    assert back["data"] == first["data"]
    assert "prev_cursor" not in first["meta"]


def _tamper(token: str) -> str:
    envelope = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    envelope["data"]["offset"] = 0
    return base64.urlsafe_b64encode(json.dumps(envelope).encode()).decode().rstrip("=")


def test_tampered_expired_and_mismatched_cursors_are_refused_with_the_spec_messages(get):
    filters = list_bound(
        {"tenor_type": "MONTHLY", "asof": None, "as_known_at": None}, list_path="acme:/api/v1/curves"
    )
    good = cursor_encode(offset=50, limit=50, filters=filters)
    old = cursor_encode(offset=50, limit=50, filters=filters, now=datetime.now(UTC) - timedelta(hours=2))

    tampered = get("/v1/curves", limit=50, tenor_type="MONTHLY", cursor=_tamper(good))
    expired = get("/v1/curves", limit=50, tenor_type="MONTHLY", cursor=old)
    mismatch = get("/v1/curves", limit=50, tenor_type="CALENDAR", cursor=good)
    with_offset = get("/v1/curves", limit=50, tenor_type="MONTHLY", cursor=good, offset=3)
    accepted = get("/v1/curves", limit=50, tenor_type="MONTHLY", cursor=good)

    assert (tampered.status_code, tampered.json()["detail"]) == (400, "signature mismatch")
    assert (expired.status_code, expired.json()["detail"]) == (400, "Cursor has expired")
    assert (mismatch.status_code, mismatch.json()["detail"]) == (400, "Cursor filters do not match")
    assert with_offset.status_code == 400
    assert accepted.status_code == 200 and accepted.json()["meta"]["offset"] == 50


def test_csv_has_the_spec_columns_the_json_rows_and_cursor_headers(get):
    as_json = get("/v1/curves", tenor_type="MONTHLY", limit=40)
    as_csv = get("/v1/curves", tenor_type="MONTHLY", limit=40, format="csv")

    assert as_csv.status_code == 200
    assert as_csv["Content-Type"] == "text/csv; charset=utf-8"
    assert as_csv["Content-Disposition"] == 'attachment; filename="curves.csv"'
    assert as_csv["X-Next-Cursor"]
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode())))
    spec_columns = "curve_key tenor_label tenor_type contract_month asof_date mid bid ask price_type"
    assert list(rows[0]) == spec_columns.split()
    data = as_json.json()["data"]
    assert [r["curve_key"] + r["tenor_label"] for r in rows] == [
        r["curve_key"] + r["tenor_label"] for r in data
    ]
    assert [float(r["mid"]) if r["mid"] else None for r in rows] == [r["mid"] for r in data]


def test_etag_gives_304_and_if_match_412(get):
    key = a_curve()
    first = get("/v1/curves", curve_key=key)
    etag = first["ETag"]

    again = get("/v1/curves", curve_key=key, headers={"HTTP_IF_NONE_MATCH": etag})
    stale = get("/v1/curves", curve_key=key, headers={"HTTP_IF_MATCH": '"not-the-etag"'})
    matching = get("/v1/curves", curve_key=key, headers={"HTTP_IF_MATCH": etag})
    other = get("/v1/curves", curve_key=key, asof=D1.isoformat())

    assert etag.startswith('"') and len(etag) == 66
    assert (again.status_code, again.content) == (304, b"")
    assert stale.status_code == 412
    assert matching.status_code == 200
    assert other["ETag"] != etag


def test_broad_queries_are_refused_and_the_served_limit_is_stated(get):
    key = a_curve()
    row = parsed("EUGP", D3)[next(k for k in parsed("EUGP", D3) if k[0] == key)]
    broad = get("/v1/curves", limit=800)
    one_dim = get("/v1/curves", limit=800, iso="PJM")
    narrow = get("/v1/curves", limit=800, curve_key=key, location=row["location"], product=row["product"])
    too_many = get("/v1/curves", limit=5000)

    assert broad.status_code == 400 and "limit" in json.dumps(broad.json())
    assert one_dim.status_code == 400
    assert narrow.status_code == 200 and narrow.json()["meta"]["limit"] == 500
    assert too_many.status_code == 400


def test_iso_is_uppercased_and_must_be_alphabetic(get):
    key = a_curve()
    iso = parsed("EUGP", D3)[next(k for k in parsed("EUGP", D3) if k[0] == key)]["iso"]
    lower = get("/v1/curves", curve_key=key, iso=iso.lower())
    bad = get("/v1/curves", iso="PJM1")

    assert lower.status_code == 200 and lower.json()["data"]
    assert bad.status_code == 400


def test_a_tenant_without_the_dataset_sees_none_of_it(get):
    rp_key = a_curve("RP", RP_DAYS[-1])
    acme = get("/v1/curves", curve_key=rp_key).json()["data"]
    globex = get("/v1/curves", tenant="globex", curve_key=rp_key).json()["data"]
    globex_all = get("/v1/curves", tenant="globex", limit=500).json()["data"]

    assert acme and globex == []
    assert globex_all and all(not r["curve_key"] == rp_key for r in globex_all)


def test_diff_semantics_refusals_and_contract(get):
    key = a_curve(day=D2)
    ok = get("/v1/curves/diff", curve_key=key, asof_a=D1.isoformat(), asof_b=D2.isoformat())
    no_dims = get("/v1/curves/diff", asof_a=D1.isoformat(), asof_b=D2.isoformat())
    same = get("/v1/curves/diff", curve_key=key, asof_a=D1.isoformat(), asof_b=D1.isoformat())
    far = get("/v1/curves/diff", curve_key=key, asof_a="2024-01-01", asof_b=D2.isoformat())
    missing = get("/v1/curves/diff", curve_key=key, asof_a=D1.isoformat())

    assert ok.status_code == 200
    assert_contract("/v1/curves/diff", ok)
    a, b = parsed("EUGP", D1), parsed("EUGP", D2)
    for row in ok.json()["data"]:
        k = (row["curve_key"], row["tenor_label"])
        if k in a and k in b and a[k]["mid"] is not None and b[k]["mid"] is not None:
            assert row["diff_abs"] == pytest.approx(b[k]["mid"] - a[k]["mid"])
    assert [r["tenor_label"] for r in ok.json()["data"]]
    assert {no_dims.status_code, same.status_code, far.status_code, missing.status_code} == {400}


def test_strips_are_only_the_asked_type_and_match_the_contract(get):
    response = get("/v1/curves/strips", type="CALENDAR", limit=500)
    bad = get("/v1/curves/strips", type="MONTHLY")

    assert response.status_code == 200
    assert_contract("/v1/curves/strips", response)
    data = response.json()["data"]
    assert data and {r["tenor_type"] for r in data} == {"CALENDAR"}
    assert bad.status_code == 400


def test_dimensions_with_counts_prefix_and_entitlement(get):
    acme = get("/v1/metadata/dimensions", include_counts="true")
    globex = get("/v1/metadata/dimensions", tenant="globex", include_counts="true")
    limited = get("/v1/metadata/dimensions", per_dim_limit=2)

    assert acme.status_code == 200
    assert_contract("/v1/metadata/dimensions", acme)
    assert_contract("/v1/metadata/dimensions", limited)
    rp_only = {parsed("RP", RP_DAYS[-1])[k]["location"] for k in parsed("RP", RP_DAYS[-1])} - {
        parsed("EUGP", d)[k]["location"] for d in EUGP_DAYS for k in parsed("EUGP", d)
    }
    assert rp_only and rp_only <= set(acme.json()["data"]["location"])
    assert not rp_only & set(globex.json()["data"]["location"])
    counts = {c["value"]: c["count"] for c in acme.json()["counts"]["tenor_type"]}
    monthly_curves = {
        k[0]
        for vendor, days in (("EUGP", EUGP_DAYS), ("RP", RP_DAYS))
        for d in days
        for k, r in parsed(vendor, d).items()
        if r["tenor_type"] == "MONTHLY"
    }
    assert counts["MONTHLY"] == len(monthly_curves)  # derived strips are never MONTHLY
    assert all(len(v) <= 2 for v in limited.json()["data"].values())
    assert "counts" not in limited.json()


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/curves", {"limit": 500}),
        ("/v1/curves", {"tenor_type": "MONTHLY", "limit": 100, "offset": 100, "format": "csv"}),
        ("/v1/curves/diff", {"iso": "EU", "asof_a": D1.isoformat(), "asof_b": D2.isoformat()}),
        ("/v1/curves/strips", {"type": "QUARTER", "limit": 500}),
        ("/v1/metadata/dimensions", {"include_counts": "true"}),
    ],
)
def test_list_reads_pin_their_queries(get, settings, django_assert_num_queries, path, params):
    get("/v1/metadata/calendars")  # a token's first request of the minute stamps its last_used_at
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
