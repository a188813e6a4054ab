"""Series–curve mappings through the HTTP API: the original's /v1/admin/mappings… (bodies validated against
openapi-spec-v1.yaml) and v2 /api/v2/series-curve-mappings and /api/v2/series-mapping-suggestions. The
platform's operators write (audited in their ledger); every member with curves:read reads; customers' admins
are refused writes and change nothing."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django_tenants.utils import schema_context

from apps.audit.models import AuditEntry
from apps.curves.models import Curve
from apps.feeds.models import Series, SeriesCurveMapping
from tests.support.contract import assert_contract
from tests.support.world import World

DAY = datetime.date(2025, 1, 2)
CURVES = {
    "NG_HH": {
        "location": "Henry Hub",
        "product": "Natural Gas",
        "commodity": "gas",
        "units_raw": "USD/MMBtu",
    },
    "NG_CHI": {"location": "Chicago Citygates", "product": "Natural Gas", "commodity": "gas"},
    "PW_PJM": {"location": "PJM West Hub", "product": "Power", "commodity": "power"},
    "PW_ERCOT": {"location": "ERCOT North", "product": "Power", "commodity": "power"},
}
CREATE = {"external_provider": "FRED", "external_series_id": "DHHNGSP", "curve_key": "NG_HH"}


@pytest.fixture
def catalog(world: World) -> None:
    """Four curves and one FRED series (Henry Hub spot) in the shared catalogs."""
    for key, fields in CURVES.items():
        Curve.objects.create(
            curve_key=key,
            dataset="vendor:EUGP",
            vendor="EUGP",
            asset_class="x",
            first_asof=DAY,
            last_asof=DAY,
            **fields,
        )
    Series.objects.create(
        provider="FRED",
        series_id="DHHNGSP",
        title="Henry Hub Natural Gas Spot Price",
        unit_code="Dollars per Million BTU",
    )


def _audit(schema: str) -> list[tuple[str, dict[str, Any]]]:
    with schema_context(schema):
        entries = AuditEntry.objects.filter(action__startswith="series_curve_mapping.").order_by("sequence")
        return [(e.action, e.changes_data) for e in entries]


def test_operator_creates_lists_updates_and_deactivates_through_v1(world, api, catalog):
    ops = world.ops.auth("admin")

    created = api.post("/v1/admin/mappings", {**CREATE, "mapping_notes": "spot to hub"}, format="json", **ops)
    listed = api.get("/v1/admin/mappings", {"external_provider": "fred"}, **world.acme.auth("viewer"))
    updated = api.put("/v1/admin/mappings/FRED/DHHNGSP", {"mapping_confidence": 0.8}, format="json", **ops)
    deleted = api.delete("/v1/admin/mappings/FRED/DHHNGSP", **ops)
    active = api.get("/api/v1/admin/mappings", **world.acme.auth("viewer"))
    everything = api.get("/api/v1/admin/mappings", {"active_only": "false"}, **world.acme.auth("viewer"))

    assert_contract("/v1/admin/mappings", created, method="post")
    body = created.json()
    assert (body["external_provider"], body["external_series_id"], body["curve_key"]) == (
        "FRED",
        "DHHNGSP",
        "NG_HH",
    )
    assert (body["mapping_confidence"], body["mapping_method"], body["is_active"]) == (1.0, "manual", True)
    assert (body["mapping_notes"], body["created_by"], body["updated_by"]) == (
        "spot to hub",
        "admin@ops.example",
        None,
    )
    assert_contract("/v1/admin/mappings", listed)
    assert [m["id"] for m in listed.json()["data"]] == [body["id"]]
    assert_contract("/v1/admin/mappings/{provider}/{series_id}", updated, method="put")
    assert updated.json()["mapping_confidence"] == 0.8 and updated.json()["updated_by"] == "admin@ops.example"
    assert updated.json()["mapping_notes"] == "spot to hub"  # fields not named stay as they were
    assert_contract("/v1/admin/mappings/{provider}/{series_id}", deleted, method="delete")
    assert deleted.json()["is_active"] is False
    assert active.json()["data"] == []
    assert [m["is_active"] for m in everything.json()["data"]] == [False]
    assert [action for action, _ in _audit("ops")] == [
        "series_curve_mapping.create",
        "series_curve_mapping.update",
        "series_curve_mapping.update",
    ]
    assert _audit("ops")[1][1]["after"] == {"mapping_confidence": 0.8}
    assert _audit("acme") == []


def test_v1_list_pages_with_the_cursor(world, api, catalog):
    for key in ("NG_CHI", "NG_HH", "PW_PJM"):
        assert (
            api.post(
                "/v1/admin/mappings", {**CREATE, "curve_key": key}, format="json", **world.ops.auth("admin")
            ).status_code
            == 200
        )

    first = api.get("/v1/admin/mappings", {"limit": 2}, **world.acme.auth("viewer"))
    second = api.get(
        "/v1/admin/mappings", {"cursor": first.json()["meta"]["next_cursor"]}, **world.acme.auth("viewer")
    )

    assert_contract("/v1/admin/mappings", first)
    assert_contract("/v1/admin/mappings", second)
    assert [m["curve_key"] for m in first.json()["data"]] == ["NG_CHI", "NG_HH"]
    assert [m["curve_key"] for m in second.json()["data"]] == ["PW_PJM"]


def test_v2_create_update_deactivate_and_list(world, api, catalog):
    ops = world.ops.auth("admin")

    created = api.post(
        "/api/v2/series-curve-mappings",
        {**CREATE, "mapping_method": "heuristic", "mapping_confidence": 0.6},
        format="json",
        **ops,
    )
    mapping_id = created.json()["data"]["id"]
    updated = api.put(
        f"/api/v2/series-curve-mappings/{mapping_id}",
        {"mapping_notes": "checked", "mapping_method": "manual"},
        format="json",
        **ops,
    )
    deleted = api.delete(f"/api/v2/series-curve-mappings/{mapping_id}", **ops)
    listed = api.get("/api/v2/series-curve-mappings", {"active_only": "false"}, **world.acme.auth("viewer"))

    assert created.status_code == 201
    assert created["Location"].endswith(f"/api/v2/series-curve-mappings/{mapping_id}")
    assert updated.status_code == 200
    assert (updated.json()["data"]["mapping_notes"], updated.json()["data"]["mapping_method"]) == (
        "checked",
        "manual",
    )
    assert updated.json()["data"]["mapping_confidence"] == 0.6
    assert deleted.status_code == 200 and deleted.json()["data"]["is_active"] is False
    assert [(m["id"], m["is_active"]) for m in listed.json()["data"]] == [(mapping_id, False)]
    assert len(_audit("ops")) == 3


def test_the_same_series_and_curve_twice_is_409_and_writes_nothing(world, api, catalog):
    ops = world.ops.auth("admin")
    first = api.post("/api/v2/series-curve-mappings", CREATE, format="json", **ops)

    again = api.post("/v1/admin/mappings", {**CREATE, "external_provider": "fred"}, format="json", **ops)

    assert first.status_code == 201
    assert again.status_code == 409
    assert again["Content-Type"].startswith("application/problem+json")
    assert SeriesCurveMapping.objects.count() == 1
    assert len(_audit("ops")) == 1


@pytest.mark.parametrize(
    "body",
    [
        {**CREATE, "mapping_confidence": 1.5},
        {**CREATE, "mapping_confidence": -0.1},
        {**CREATE, "mapping_method": "guessed"},
        {**CREATE, "curve_key": "NO_SUCH_CURVE"},
        {"external_provider": "FRED", "curve_key": "NG_HH"},
    ],
    ids=["confidence-above-1", "confidence-below-0", "unknown-method", "unknown-curve", "no-series"],
)
def test_bad_input_is_a_400_problem_and_writes_nothing(world, api, catalog, body):
    response = api.post("/v1/admin/mappings", body, format="json", **world.ops.auth("admin"))

    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("application/problem+json")
    assert SeriesCurveMapping.objects.count() == 0
    assert _audit("ops") == []


def test_confidence_out_of_range_on_update_changes_nothing(world, api, catalog):
    ops = world.ops.auth("admin")
    mapping_id = api.post("/api/v2/series-curve-mappings", CREATE, format="json", **ops).json()["data"]["id"]

    response = api.put(
        f"/api/v2/series-curve-mappings/{mapping_id}", {"mapping_confidence": 2}, format="json", **ops
    )

    assert response.status_code == 400
    assert SeriesCurveMapping.objects.get(pk=mapping_id).mapping_confidence == 1.0
    assert len(_audit("ops")) == 1


def test_customer_admins_are_refused_writes_and_change_nothing(world, api, catalog):
    ops = world.ops.auth("admin")
    mapping_id = api.post("/api/v2/series-curve-mappings", CREATE, format="json", **ops).json()["data"]["id"]
    acme = world.acme.auth("admin")

    responses = [
        api.post("/v1/admin/mappings", {**CREATE, "curve_key": "NG_CHI"}, format="json", **acme),
        api.post("/api/v2/series-curve-mappings", {**CREATE, "curve_key": "NG_CHI"}, format="json", **acme),
        api.put("/v1/admin/mappings/FRED/DHHNGSP", {"is_active": False}, format="json", **acme),
        api.delete("/v1/admin/mappings/FRED/DHHNGSP", **acme),
        api.put(f"/api/v2/series-curve-mappings/{mapping_id}", {"is_active": False}, format="json", **acme),
        api.delete(f"/api/v2/series-curve-mappings/{mapping_id}", **acme),
        api.post("/api/v2/series-curve-mappings", CREATE, format="json", **world.ops.auth("viewer")),
    ]

    assert [r.status_code for r in responses] == [403] * 7
    assert list(SeriesCurveMapping.objects.values_list("curve_key", "is_active")) == [("NG_HH", True)]
    assert _audit("acme") == []
    assert len(_audit("ops")) == 1


def test_a_series_mapped_to_two_curves_needs_the_curve_key_on_v1(world, api, catalog):
    ops = world.ops.auth("admin")
    for key in ("NG_HH", "NG_CHI"):
        api.post("/v1/admin/mappings", {**CREATE, "curve_key": key}, format="json", **ops)

    ambiguous = api.delete("/v1/admin/mappings/FRED/DHHNGSP", **ops)
    named = api.delete("/v1/admin/mappings/FRED/DHHNGSP?curve_key=NG_CHI", **ops)
    missing = api.delete("/v1/admin/mappings/FRED/NO_SUCH", **ops)

    assert ambiguous.status_code == 409
    assert named.status_code == 200 and named.json()["curve_key"] == "NG_CHI"
    assert missing.status_code == 404
    assert dict(SeriesCurveMapping.objects.values_list("curve_key", "is_active")) == {
        "NG_HH": True,
        "NG_CHI": False,
    }


def test_search_ranks_curves_by_shared_words_with_reasons(world, api, catalog):
    api.post("/v1/admin/mappings", CREATE, format="json", **world.ops.auth("admin"))

    v1 = api.get(
        "/v1/admin/mappings/search",
        {"external_provider": "FRED", "external_series_id": "DHHNGSP"},
        **world.acme.auth("viewer"),
    )
    v2 = api.get(
        "/api/v2/series-mapping-suggestions",
        {"external_provider": "FRED", "external_series_id": "DHHNGSP", "limit": 2},
        **world.acme.auth("viewer"),
    )
    v2_next = api.get(v2.json()["links"]["next"], **world.acme.auth("viewer"))

    assert_contract("/v1/admin/mappings/search", v1)
    ranked = [s for s in v1.json()["data"] if s["curve_key"] in CURVES]
    # Henry Hub natural gas shares henry, hub, natural, gas; Chicago natural gas, gas; PJM West Hub, hub;
    # ERCOT North power shares no word and is not suggested.
    assert [s["curve_key"] for s in ranked] == ["NG_HH", "NG_CHI", "PW_PJM"]
    assert ranked[0]["reasons"][0] == "shared words: gas, henry, hub, natural"
    assert ranked[1]["reasons"][0] == "shared words: gas, natural"
    assert ranked[2]["reasons"][0] == "shared words: hub"
    assert 1 >= ranked[0]["score"] > ranked[1]["score"] > ranked[2]["score"] > 0
    assert [s["already_mapped"] for s in ranked] == [True, False, False]
    assert v2.status_code == 200
    assert [s["curve_key"] for s in v2.json()["data"]] == ["NG_HH", "NG_CHI"]
    assert [s["curve_key"] for s in v2_next.json()["data"]] == ["PW_PJM"]


def test_search_for_an_unknown_or_unlicensed_series_is_404(world, api, catalog):
    unknown = api.get(
        "/v1/admin/mappings/search",
        {"external_provider": "FRED", "external_series_id": "NOPE"},
        **world.acme.auth("viewer"),
    )
    # globex's plan has no feed:fred licence: the series is not in its catalog
    unlicensed = api.get(
        "/api/v2/series-mapping-suggestions",
        {"external_provider": "FRED", "external_series_id": "DHHNGSP"},
        **world.globex.auth("viewer"),
    )
    no_series = api.get(
        "/v1/admin/mappings/search", {"external_provider": "FRED"}, **world.acme.auth("viewer")
    )

    assert unknown.status_code == 404
    assert unlicensed.status_code == 404
    assert no_series.status_code == 400


def test_suggestions_take_the_original_v2_parameter_names(world, api, catalog):
    def suggest(**params: Any) -> Any:
        return api.get("/api/v2/series-mapping-suggestions", params, **world.acme.auth("viewer"))

    ours = suggest(external_provider="FRED", external_series_id="DHHNGSP")
    original = suggest(provider="fred", series_id="DHHNGSP")
    both_agree = suggest(external_provider="FRED", provider="FRED", series_id="DHHNGSP")
    # The original ranked the series' texts it was given: a power name and units move power curves up.
    renamed = suggest(provider="FRED", series_id="DHHNGSP", series_name="PJM West Hub Power", units="MWh")
    described = suggest(provider="FRED", series_id="DHHNGSP", description="ERCOT North")
    next_with_other_texts = api.get(
        renamed.json()["links"]["next"].replace("series_name=PJM", "series_name=ERCOT")
        if renamed.json()["links"].get("next")
        else "/api/v2/series-mapping-suggestions?provider=FRED&series_id=DHHNGSP&limit=1&cursor=x",
        **world.acme.auth("viewer"),
    )

    def keys(response: Any) -> list[str]:
        assert response.status_code == 200, response.content
        return [s["curve_key"] for s in response.json()["data"] if s["curve_key"] in CURVES]

    assert keys(ours) == keys(original) == keys(both_agree) == ["NG_HH", "NG_CHI", "PW_PJM"]
    assert keys(renamed)[0] == "PW_PJM"
    assert [s["reasons"][0] for s in renamed.json()["data"] if s["curve_key"] == "PW_PJM"] == [
        "shared words: hub, pjm, power, west"
    ]
    assert "PW_ERCOT" in keys(described)
    assert next_with_other_texts.status_code == 400


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"external_provider": "FRED", "provider": "EIA", "series_id": "DHHNGSP"}, "provider"),
        ({"provider": "FRED", "external_series_id": "DHHNGSP", "series_id": "DGS10"}, "series_id"),
        ({"provider": "FRED"}, "external_series_id"),
        ({"series_id": "DHHNGSP"}, "external_provider"),
        ({"provider": "FRED", "series_id": "DHHNGSP", "series_name": "x" * 501}, "series_name"),
    ],
)
def test_conflicting_or_missing_suggestion_parameters_are_400_problems(world, api, catalog, params, field):
    response = api.get("/api/v2/series-mapping-suggestions", params, **world.acme.auth("viewer"))

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert field in [issue["field"] for issue in response.json()["errors"]]
