"""PPA contracts through the v2 API: create, read, list (cursor paging), change, delete; terms validation
with every error at once; roles; another tenant's contract is 404."""

from __future__ import annotations

from typing import Any

import pytest
from auditlog.models import LogEntry
from django_tenants.utils import schema_context

from apps.ppa.models import PpaContract

TERMS: dict[str, Any] = {
    "counterparty": "Solar Co",
    "price_usd_mwh": 48.5,
    "volume_mwh": 1200.0,
    "discount_rate": 0.08,
    "upfront_cost": 25_000.0,
    "start_date": "2025-10-01",
    "end_date": "2026-09-30",
}
URL = "/api/v2/ppa/contracts"


def _create(api: Any, world: Any, role: str = "trader", tenant: str = "acme", **body: Any) -> Any:
    return api.post(URL, {"terms": TERMS, **body}, format="json", **getattr(world, tenant).auth(role))


def test_create_read_and_list(world, api):
    created = _create(api, world, instrument_id="INS-1")

    assert created.status_code == 201, created.content
    data = created.json()["data"]
    assert (data["terms"], data["instrument_id"], data["curve_key"]) == (TERMS, "INS-1", "")
    assert data["created_by"] == "trader@acme.example"
    assert created["Location"].endswith(f"{URL}/{data['id']}")
    read = api.get(f"{URL}/{data['id']}", **world.acme.auth("viewer"))
    assert read.status_code == 200
    assert read.json()["data"] == data
    with schema_context("acme"):
        stored = PpaContract.objects.get(pk=data["id"])
        assert stored.terms == TERMS
        assert stored.created_by is not None and stored.created_by.email == "trader@acme.example"


def test_list_pages_with_cursor_links_newest_first_and_filters_by_counterparty(world, api):
    ids = [
        _create(api, world, terms={**TERMS, "counterparty": f"Wind {i}"}).json()["data"]["id"]
        for i in range(3)
    ]

    first = api.get(URL, {"limit": 2}, **world.acme.auth("viewer"))
    second = api.get(first.json()["links"]["next"], **world.acme.auth("viewer"))
    wind_1 = api.get(URL, {"counterparty": "wind 1"}, **world.acme.auth("viewer"))

    assert first.status_code == second.status_code == 200
    assert [c["id"] for c in first.json()["data"]] == ids[::-1][:2]
    assert [c["id"] for c in second.json()["data"]] == ids[::-1][2:]
    assert first.json()["meta"]["has_more"] is True and second.json()["meta"]["has_more"] is False
    assert 'rel="next"' in first["Link"]
    assert first.json()["meta"]["tenant_id"] == "acme"
    assert [c["id"] for c in wind_1.json()["data"]] == [ids[1]]


def test_a_page_with_a_next_page_keeps_its_etag_and_answers_304(world, api):
    for i in range(3):
        _create(api, world, terms={**TERMS, "counterparty": f"Tidal {i}"})

    first = api.get(URL, {"limit": 2}, **world.acme.auth("viewer"))
    again = api.get(URL, {"limit": 2}, HTTP_IF_NONE_MATCH=first["ETag"], **world.acme.auth("viewer"))

    assert first.json()["links"]["next"]  # the next cursor is in the body the ETag covers
    assert (again.status_code, again["ETag"], again["Link"]) == (304, first["ETag"], first["Link"])


def test_a_cursor_only_pages_the_query_it_was_issued_for(world, api):
    for i in range(2):
        _create(api, world, terms={**TERMS, "counterparty": f"Hydro {i}"})
    first = api.get(URL, {"limit": 1}, **world.acme.auth("viewer"))
    cursor = first.json()["meta"]["next_cursor"]

    other_filter = api.get(URL, {"cursor": cursor, "counterparty": "hydro"}, **world.acme.auth("viewer"))

    assert other_filter.status_code == 400
    assert other_filter["Content-Type"] == "application/problem+json"


def test_every_terms_problem_is_reported_at_once_and_nothing_is_created(world, api):
    with schema_context("acme"):
        before = PpaContract.objects.count()
    bad = {"counterparty": 7, "capacity_factor": 1.5, "start_date": "2026/01/01", "discount_rate": -2}

    response = api.post(URL, {"terms": bad}, format="json", **world.acme.auth("trader"))

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    errors = {(e["field"], e["code"]) for e in response.json()["errors"]}
    assert errors == {
        ("terms.counterparty", "INVALID_TYPE"),
        ("terms.price_usd_mwh", "REQUIRED_FIELD_MISSING"),
        ("terms.volume_mwh", "REQUIRED_FIELD_MISSING"),
        ("terms.capacity_factor", "OUT_OF_RANGE"),
        ("terms.start_date", "INVALID_DATE"),
        ("terms.discount_rate", "OUT_OF_RANGE"),
    }
    with schema_context("acme"):
        assert PpaContract.objects.count() == before


def test_terms_must_be_an_object_and_curve_key_a_licensed_curve(world, api):
    not_an_object = api.post(URL, {"terms": [1, 2]}, format="json", **world.acme.auth("trader"))
    unknown_curve = _create(api, world, curve_key="e" * 64)

    assert not_an_object.status_code == 400
    assert not_an_object.json()["errors"][0]["field"] == "terms"
    assert unknown_curve.status_code == 400
    assert unknown_curve.json()["errors"] == [
        {"field": "curve_key", "message": "No such curve.", "code": "UNKNOWN_CURVE"}
    ]


def test_patch_replaces_the_terms_and_validates_them(world, api):
    contract = _create(api, world).json()["data"]
    new_terms = {"ppa_price": 51.0, "capacity_mw": 20.0, "capacity_factor": 0.3}

    changed = api.patch(
        f"{URL}/{contract['id']}", {"terms": new_terms}, format="json", **world.acme.auth("trader")
    )
    refused = api.patch(
        f"{URL}/{contract['id']}", {"terms": {"ppa_price": 51.0}}, format="json", **world.acme.auth("trader")
    )
    renamed = api.patch(
        f"{URL}/{contract['id']}", {"instrument_id": "INS-9"}, format="json", **world.acme.auth("trader")
    )

    assert changed.status_code == 200
    assert changed.json()["data"]["terms"] == new_terms
    assert changed.json()["data"]["updated_at"] > contract["updated_at"]
    assert refused.status_code == 400
    assert [e["field"] for e in refused.json()["errors"]] == ["terms.volume_mwh"]
    assert renamed.json()["data"]["terms"] == new_terms  # unchanged by the refused patch or the rename
    assert renamed.json()["data"]["instrument_id"] == "INS-9"


def test_delete_then_gone(world, api):
    contract = _create(api, world).json()["data"]

    deleted = api.delete(f"{URL}/{contract['id']}", **world.acme.auth("trader"))
    again = api.get(f"{URL}/{contract['id']}", **world.acme.auth("trader"))

    assert deleted.status_code == 204
    assert again.status_code == 404
    with schema_context("acme"):
        assert not PpaContract.objects.filter(pk=contract["id"]).exists()


def test_changes_are_audited_with_the_actor(world, api):
    contract = _create(api, world).json()["data"]
    api.patch(
        f"{URL}/{contract['id']}", {"instrument_id": "INS-2"}, format="json", **world.acme.auth("trader")
    )

    with schema_context("acme"):
        stored = PpaContract.objects.get(pk=contract["id"])
        entries = LogEntry.objects.get_for_object(stored).order_by("timestamp")
        assert [e.action for e in entries] == [LogEntry.Action.CREATE, LogEntry.Action.UPDATE]
        assert {e.actor.email for e in entries} == {"trader@acme.example"}
        assert entries[1].changes_dict["instrument_id"] == ["", "INS-2"]


@pytest.mark.parametrize(
    ("role", "method", "expected"),
    [
        ("viewer", "get", 200),
        ("viewer", "post", 403),
        ("analyst", "post", 403),  # analysts value contracts but do not write them
        ("trader", "post", 201),
        ("admin", "post", 201),
    ],
)
def test_roles(world, api, role, method, expected):
    response = getattr(api, method)(
        URL, {"terms": TERMS} if method == "post" else None, format="json", **world.acme.auth(role)
    )

    assert response.status_code == expected


def test_viewer_and_analyst_cannot_change_or_delete(world, api):
    contract = _create(api, world).json()["data"]
    path = f"{URL}/{contract['id']}"

    assert (
        api.patch(path, {"instrument_id": "x"}, format="json", **world.acme.auth("analyst")).status_code
        == 403
    )
    assert api.delete(path, **world.acme.auth("viewer")).status_code == 403
    assert api.delete(path, **world.acme.auth("analyst")).status_code == 403
    assert api.get(path, **world.acme.auth("viewer")).json()["data"]["instrument_id"] is None


def test_another_tenants_contract_is_404_everywhere_and_untouched(world, api):
    theirs = _create(api, world, tenant="globex").json()["data"]
    path = f"{URL}/{theirs['id']}"
    acme = world.acme.auth("admin")

    responses = [
        api.get(path, **acme),
        api.patch(path, {"instrument_id": "stolen"}, format="json", **acme),
        api.delete(path, **acme),
        api.get(f"{path}/valuations", **acme),
        api.post(f"{path}/valuations", {"curve_key": "x"}, format="json", **acme),
        api.get(f"/api/v1/ppa/contracts/{theirs['id']}", **acme),
        api.post(
            "/api/v1/ppa/valuate",
            {"ppa_contract_id": theirs["id"], "scenario_id": "s"},
            format="json",
            **acme,
        ),
    ]
    listed = api.get(URL, {"limit": 100}, **acme)

    assert [r.status_code for r in responses] == [404] * len(responses)
    assert theirs["id"] not in {c["id"] for c in listed.json()["data"]}
    still = api.get(path, **world.globex.auth("viewer"))
    assert still.status_code == 200
    assert still.json()["data"]["instrument_id"] is None


def test_malformed_ids_are_404(world, api):
    assert api.get(f"{URL}/not-a-uuid", **world.acme.auth("viewer")).status_code == 404
    assert api.get(f"{URL}/not-a-uuid/valuations", **world.acme.auth("viewer")).status_code == 404
