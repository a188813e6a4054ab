"""Valuing PPA contracts against a real ingested base curve (v2): NPV and IRR checked against values the test
computes from the spec's formulas, stored valuations (Postgres record + Iceberg rows) listed and read back,
licensing (404 for a curve of a dataset the tenant is not entitled to)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow.compute as pc
import pytest
from django_tenants.utils import schema_context

from apps.curves.models import Curve
from apps.ppa.lakehouse import ppa_valuation_table
from apps.ppa.models import PpaValuation
from tenants.models import Tenant
from tests.support import ppa_expected as expected
from tests.support.ppa import PPA_DAY

URL = "/api/v2/ppa/contracts"
START, END = date(2025, 10, 1), date(2026, 12, 31)
IN_THE_MONEY: dict[str, Any] = {  # market well above the contract price, paid for up front: one sign change
    "counterparty": "Rheinwind",
    "ppa_price": 40.0,
    "volume_mwh": 1500.0,
    "discount_rate": 0.08,
    "upfront_cost": 600_000.0,
    "start_date": START.isoformat(),
    "end_date": END.isoformat(),
}


@pytest.fixture
def german(german_power, catalogued):
    catalogued("vendor:EUGP", PPA_DAY)
    return german_power


def _contract(
    api: Any, world: Any, terms: dict[str, Any], tenant: str = "acme", **extra: Any
) -> dict[str, Any]:
    response = api.post(
        URL, {"terms": terms, **extra}, format="json", **getattr(world, tenant).auth("trader")
    )
    assert response.status_code == 201, response.content
    return dict(response.json()["data"])


def _value(api: Any, world: Any, contract_id: str, tenant: str = "acme", **body: Any) -> Any:
    return api.post(
        f"{URL}/{contract_id}/valuations", body, format="json", **getattr(world, tenant).auth("analyst")
    )


def test_npv_and_irr_against_the_spec_formulas_on_a_real_curve(world, api, german):
    contract = _contract(api, world, IN_THE_MONEY, curve_key=german.curve_key)
    months = expected.window(german.monthly_mids(), START, END)
    flows = expected.cashflows(months, 40.0, 1500.0)
    want_npv = expected.npv(months, flows, 0.08, 600_000.0)
    roots = expected.irr_by_roots(600_000.0, flows)

    response = _value(api, world, contract["id"], asof=PPA_DAY.isoformat())

    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert len(months) == 15 and all(f > 0 for f in flows)  # the case is what it claims to be
    assert (data["source"], data["curve_key"], data["asof"]) == (
        "curve",
        german.curve_key,
        PPA_DAY.isoformat(),
    )
    assert data["npv"] == pytest.approx(want_npv, abs=1e-6)
    assert len(roots) == 1  # one sign change: exactly one real IRR
    assert data["irr"] == pytest.approx(roots[0], abs=1e-9)
    assert data["irr_annualised"] == pytest.approx((1 + roots[0]) ** 12 - 1, abs=1e-8)
    assert [c["period_start"] for c in data["cashflows"]] == [m.isoformat() for m, _ in months]
    assert [c["period_end"] for c in data["cashflows"]] == [
        expected.month_end(m).isoformat() for m, _ in months
    ]
    assert [c["period"] for c in data["cashflows"]] == list(range(1, 16))
    assert [c["price"] for c in data["cashflows"]] == [p for _, p in months]
    assert [c["cashflow"] for c in data["cashflows"]] == pytest.approx(flows, abs=1e-6)
    assert (data["months"], data["row_count"]) == (15, 17)  # 15 cashflows, NPV, IRR
    assert (data["period_start"], data["period_end"]) == ("2025-10-01", "2026-12-31")
    with schema_context("acme"):
        curve = Curve.objects.get(curve_key=german.curve_key)
        stored = PpaValuation.objects.get(pk=data["id"])
    assert data["currency"] == curve.currency != ""
    assert stored.npv == Decimal(repr(want_npv)).quantize(Decimal("0.000001"))
    assert stored.snapshot_id is not None and stored.source_snapshot_id is not None


def test_irr_is_null_when_the_cashflows_never_change_sign(world, api, german):
    terms = {**IN_THE_MONEY, "ppa_price": 1000.0, "upfront_cost": 0}  # every month pays out
    contract = _contract(api, world, terms, curve_key=german.curve_key)
    months = expected.window(german.monthly_mids(), START, END)
    flows = expected.cashflows(months, 1000.0, 1500.0)

    data = _value(api, world, contract["id"], asof=PPA_DAY.isoformat()).json()["data"]

    assert all(f < 0 for f in flows)
    assert data["irr"] is None and data["irr_annualised"] is None
    assert data["npv"] == pytest.approx(expected.npv(months, flows, 0.08, 0.0), abs=1e-6)


def test_capacity_based_volume_and_options_override_the_terms(world, api, german):
    terms = {
        "ppa_price": 70.0,
        "capacity_mw": 25.0,
        "capacity_factor": 0.35,
        "start_date": "2026-01-01",
        "end_date": "2026-06-30",
    }
    contract = _contract(api, world, terms, curve_key=german.curve_key)
    months = expected.window(german.monthly_mids(), date(2026, 1, 1), date(2026, 6, 30))
    hours = [(expected.month_end(m).day * 24) for m, _ in months]
    flows = [(price - 55.0) * 25.0 * h * 0.35 for (_, price), h in zip(months, hours, strict=True)]

    data = _value(
        api,
        world,
        contract["id"],
        asof=PPA_DAY.isoformat(),
        options={"ppa_price": 55.0, "discount_rate": 0.1},
    ).json()["data"]

    assert data["npv"] == pytest.approx(expected.npv(months, flows, 0.1, 0.0), abs=1e-6)
    assert [c["volume_mwh"] for c in data["cashflows"]] == [25.0 * h * 0.35 for h in hours]
    assert data["options"] == {"ppa_price": 55.0, "discount_rate": 0.1}
    assert (data["terms"]["ppa_price"], data["terms"]["discount_rate"]) == (55.0, 0.1)


def test_stored_valuations_are_listed_and_read_back_from_the_lakehouse(world, api, german):
    contract = _contract(api, world, IN_THE_MONEY, curve_key=german.curve_key)
    first = _value(api, world, contract["id"], asof=PPA_DAY.isoformat()).json()["data"]
    second = _value(api, world, contract["id"], options={"discount_rate": 0.12}).json()["data"]

    listed = api.get(f"{URL}/{contract['id']}/valuations", **world.acme.auth("viewer"))
    detail = api.get(f"{URL}/{contract['id']}/valuations/{first['id']}", **world.acme.auth("viewer"))

    assert listed.status_code == detail.status_code == 200
    assert [v["id"] for v in listed.json()["data"]] == [second["id"], first["id"]]
    assert "cashflows" not in listed.json()["data"][0]
    assert detail.json()["data"] == first
    # No asof given: the curve's latest as-of in the catalog.
    with schema_context("acme"):
        assert second["asof"] == Curve.objects.get(curve_key=german.curve_key).last_asof.isoformat()
    tenant = Tenant.objects.get(schema_name="acme")
    rows = ppa_valuation_table(tenant).scan(row_filter=f"ppa_contract_id == '{contract['id']}'").to_arrow()
    mine = rows.filter(pc.equal(rows.column("valuation_id"), first["id"]))
    assert mine.num_rows == 17
    assert sorted(set(mine.column("metric").to_pylist())) == ["IRR", "NPV", "cashflow"]
    npv_row = mine.filter(pc.equal(mine.column("metric"), "NPV")).to_pylist()[0]
    assert float(npv_row["npv"]) == float(npv_row["value"]) == pytest.approx(first["npv"], abs=5e-7)
    assert npv_row["ppa_contract_id"] == contract["id"] and npv_row["scenario_id"] is None
    assert len({r["version_hash"] for r in mine.to_pylist()}) == 17


def test_deleting_a_contract_removes_its_lakehouse_rows(world, api, german):
    contract = _contract(api, world, IN_THE_MONEY, curve_key=german.curve_key)
    _value(api, world, contract["id"], asof=PPA_DAY.isoformat())
    tenant = Tenant.objects.get(schema_name="acme")
    row_filter = f"ppa_contract_id == '{contract['id']}'"
    assert ppa_valuation_table(tenant).scan(row_filter=row_filter).to_arrow().num_rows == 17

    assert api.delete(f"{URL}/{contract['id']}", **world.acme.auth("trader")).status_code == 204

    assert ppa_valuation_table(tenant).refresh().scan(row_filter=row_filter).to_arrow().num_rows == 0
    with schema_context("acme"):
        assert not PpaValuation.objects.filter(contract_id=contract["id"]).exists()


def test_a_curve_of_an_unlicensed_dataset_is_404(world, api, rp_slice, catalogued):
    catalogued("vendor:RP", PPA_DAY)
    monthly = rp_slice.filter(
        pc.and_(pc.equal(rp_slice.column("tenor_type"), "MONTHLY"), pc.is_valid(rp_slice.column("mid")))
    )
    rp_key = sorted(set(monthly.column("curve_key").to_pylist()))[0]
    terms = {"ppa_price": 10.0, "volume_mwh": 100.0}
    acme_contract = _contract(api, world, terms)
    globex_contract = _contract(api, world, terms, tenant="globex")

    licensed = _value(api, world, acme_contract["id"], curve_key=rp_key, asof=PPA_DAY.isoformat())
    unlicensed = _value(
        api, world, globex_contract["id"], tenant="globex", curve_key=rp_key, asof=PPA_DAY.isoformat()
    )
    named_on_create = api.post(
        URL, {"terms": terms, "curve_key": rp_key}, format="json", **world.globex.auth("trader")
    )

    assert licensed.status_code == 201  # the curve exists and is priced: acme's plan includes vendor:RP
    assert unlicensed.status_code == 404
    assert unlicensed.json()["detail"] == "No such curve."
    assert named_on_create.status_code == 400
    with schema_context("globex"):
        assert not PpaValuation.objects.filter(contract_id=globex_contract["id"]).exists()


def test_valuation_input_errors(world, api, german):
    contract = _contract(api, world, IN_THE_MONEY, curve_key=german.curve_key)
    no_curve = _contract(api, world, IN_THE_MONEY)

    cases = {
        "unknown option": _value(api, world, contract["id"], options={"price": 3}),
        "bad option": _value(api, world, contract["id"], options={"discount_rate": -5}),
        "no curve": _value(api, world, no_curve["id"]),
        "no prices that day": _value(api, world, contract["id"], asof="2001-01-02"),
        "run and asof": _value(
            api,
            world,
            contract["id"],
            scenario_run_id="00000000-0000-0000-0000-000000000000",
            asof="2025-01-01",
        ),
        "unknown run": _value(
            api, world, contract["id"], scenario_run_id="00000000-0000-0000-0000-000000000000"
        ),
    }

    assert cases["unknown option"].status_code == 400
    assert cases["unknown option"].json()["errors"][0]["field"] == "options.price"
    assert cases["bad option"].status_code == 400
    assert [(e["field"], e["code"]) for e in cases["bad option"].json()["errors"]] == [
        ("options.discount_rate", "OUT_OF_RANGE")
    ]
    assert cases["no curve"].status_code == 400
    assert cases["no prices that day"].status_code == 404
    assert cases["run and asof"].status_code == 400
    assert cases["unknown run"].status_code == 404
    with schema_context("acme"):
        assert not PpaValuation.objects.filter(contract_id__in=[contract["id"], no_curve["id"]]).exists()


def test_a_window_outside_the_curve_is_400(world, api, german):
    terms = {**IN_THE_MONEY, "start_date": "2040-01-01", "end_date": "2040-12-31"}
    contract = _contract(api, world, terms, curve_key=german.curve_key)

    response = _value(api, world, contract["id"], asof=PPA_DAY.isoformat())

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "NO_OVERLAP"


def test_viewers_cannot_value(world, api, german):
    contract = _contract(api, world, IN_THE_MONEY, curve_key=german.curve_key)

    response = api.post(f"{URL}/{contract['id']}/valuations", {}, format="json", **world.acme.auth("viewer"))

    assert response.status_code == 403


def test_an_idempotency_key_replays_the_same_request_and_refuses_another(world, api, german):
    contract = _contract(api, world, IN_THE_MONEY, curve_key=german.curve_key)
    other_contract = _contract(api, world, IN_THE_MONEY, curve_key=german.curve_key)
    body = {"asof": PPA_DAY.isoformat(), "options": {"discount_rate": 0.1}}

    def value(contract_id: str, key: str, **request: Any) -> Any:
        return api.post(
            f"{URL}/{contract_id}/valuations",
            request,
            format="json",
            HTTP_IDEMPOTENCY_KEY=key,
            **world.acme.auth("analyst"),
        )

    first = value(contract["id"], "val-2025-05-14", **body)
    again = value(contract["id"], "val-2025-05-14", **body)
    other_options = value(contract["id"], "val-2025-05-14", asof=PPA_DAY.isoformat())
    other_contract_same_key = value(other_contract["id"], "val-2025-05-14", **body)
    new_key = value(contract["id"], "val-2025-05-14-b", asof=PPA_DAY.isoformat())
    malformed = value(contract["id"], "not a key!", **body)

    assert (first.status_code, again.status_code, new_key.status_code) == (201, 200, 201)
    assert again.json()["data"] == first.json()["data"]  # the stored valuation, cashflows read back
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert again["Location"] == first["Location"]
    for refused in (other_options, other_contract_same_key):
        assert refused.status_code == 422
        assert refused["Content-Type"] == "application/problem+json"
        problem = refused.json()
        assert problem["type"] == "https://aurum.dev/problems/idempotency-key-reused"
        assert problem["detail"] == (
            "Idempotency-Key 'val-2025-05-14' was used for a different valuation request; send a new key "
            "for new parameters."
        )
    assert malformed.status_code == 400
    assert malformed.json()["errors"][0]["field"] == "Idempotency-Key"
    with schema_context("acme"):
        stored = PpaValuation.objects.filter(contract_id__in=[contract["id"], other_contract["id"]])
        assert sorted(stored.values_list("idempotency_key", flat=True)) == [
            "val-2025-05-14",
            "val-2025-05-14-b",
        ]
        kept = stored.get(idempotency_key="val-2025-05-14")
    assert str(kept.pk) == first.json()["data"]["id"] and len(kept.request_fingerprint) == 64
    tenant = Tenant.objects.get(schema_name="acme")
    rows = ppa_valuation_table(tenant).scan(row_filter=f"ppa_contract_id == '{contract['id']}'").to_arrow()
    assert rows.num_rows == 17 * 2  # the replay appended nothing


def test_contract_and_valuation_lists_pin_their_queries(world, api, german, django_assert_num_queries):
    contract = _contract(api, world, IN_THE_MONEY, curve_key=german.curve_key)
    for rate in (0.05, 0.06):
        _value(api, world, contract["id"], asof=PPA_DAY.isoformat(), options={"discount_rate": rate})
    auth = world.acme.auth("viewer")
    api.get(URL, **auth)  # a token's first request of the minute stamps its last_used_at

    # Each: the token, then the reads (the tenant's search_path is set already, decision 0057).
    with django_assert_num_queries(2):  # the contracts
        v2_contracts = api.get(URL, {"limit": 1}, **auth)
    with django_assert_num_queries(2):
        v1_contracts = api.get("/api/v1/ppa/contracts", {"limit": 1}, **auth)
    with django_assert_num_queries(3):  # the contract, its valuations
        v2_valuations = api.get(f"{URL}/{contract['id']}/valuations", {"limit": 1}, **auth)
    with django_assert_num_queries(4):  # the contract, its valuation ids, the Iceberg table pointer
        v1_valuations = api.get(f"/api/v1/ppa/contracts/{contract['id']}/valuations", {"limit": 5}, **auth)

    assert [len(r.json()["data"]) for r in (v2_contracts, v1_contracts, v2_valuations, v1_valuations)] == [
        1,
        1,
        1,
        5,
    ]
    assert v2_valuations.json()["meta"]["has_more"] is True
