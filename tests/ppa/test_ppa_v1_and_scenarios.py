"""The v1 PPA endpoints against the original contract (openapi-spec-v1.yaml), and valuing against a real
scenario run (v1 by scenario_id, v2 by scenario_run_id) with NPV computed from the spec's formulas."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django_tenants.utils import schema_context

from apps.ppa.models import PpaValuation
from apps.scenarios.models import ScenarioRun
from apps.scenarios.services.execution import scenario_run_execute
from apps.scenarios.services.inputs import CurveSelection, RunOptions
from apps.scenarios.services.runs import scenario_run_submit
from apps.scenarios.services.scenarios import scenario_create
from tests.support import ppa_expected as expected
from tests.support.contract import assert_contract
from tests.support.ppa import PPA_DAY

V1 = "/api/v1/ppa"
TERMS: dict[str, Any] = {
    "counterparty": "Nordwind",
    "price_usd_mwh": 60.0,
    "volume_mwh": 800.0,
    "discount_rate": 0.07,
    "upfront_cost": 150_000.0,
    "start_date": "2026-07-01",
    "end_date": "2027-06-30",
}
POLICY = {"driver_type": "policy", "payload": {"policy_name": "carbon_tax", "start_year": 2027}}


def _create(api: Any, world: Any, **body: Any) -> Any:
    return api.post(f"{V1}/contracts", {"terms": TERMS, **body}, format="json", **world.acme.auth("trader"))


def test_contract_crud_matches_the_v1_contract(world, api):
    created = _create(api, world, instrument_id="INS-7")
    assert_contract("/v1/ppa/contracts", created, method="post", status=201)
    contract = created.json()["data"]
    path = f"{V1}/contracts/{contract['ppa_contract_id']}"

    read = api.get(path, **world.acme.auth("viewer"))
    patched = api.patch(
        path, {"terms": {**TERMS, "volume_mwh": 900.0}}, format="json", **world.acme.auth("trader")
    )
    deleted = api.delete(path, **world.acme.auth("trader"))

    assert (contract["tenant_id"], contract["instrument_id"], contract["terms"]) == ("acme", "INS-7", TERMS)
    assert_contract("/v1/ppa/contracts/{contract_id}", read, method="get")
    assert read.json()["data"] == contract
    assert_contract("/v1/ppa/contracts/{contract_id}", patched, method="patch")
    assert patched.json()["data"]["terms"]["volume_mwh"] == 900.0
    assert deleted.status_code == 204
    assert api.get(path, **world.acme.auth("viewer")).status_code == 404
    assert deleted["Deprecation"] == "true"


def test_list_pages_with_signed_cursors(world, api):
    ids = [_create(api, world).json()["data"]["ppa_contract_id"] for _ in range(3)]

    first = api.get(f"{V1}/contracts", {"limit": 2}, **world.acme.auth("viewer"))
    second = api.get(
        f"{V1}/contracts", {"cursor": first.json()["meta"]["next_cursor"]}, **world.acme.auth("viewer")
    )
    by_offset = api.get(f"{V1}/contracts", {"limit": 2, "offset": 2}, **world.acme.auth("viewer"))
    forged = api.get(f"{V1}/contracts", {"cursor": "eyJkYXRhIjp7fX0"}, **world.acme.auth("viewer"))
    both = api.get(
        f"{V1}/contracts",
        {"cursor": first.json()["meta"]["next_cursor"], "offset": 1},
        **world.acme.auth("viewer"),
    )

    assert_contract("/v1/ppa/contracts", first, method="get")
    assert_contract("/v1/ppa/contracts", second, method="get")
    newest_first = ids[::-1]
    assert [c["ppa_contract_id"] for c in first.json()["data"]] == newest_first[:2]
    assert [c["ppa_contract_id"] for c in second.json()["data"]][:1] == newest_first[2:]
    assert [c["ppa_contract_id"] for c in by_offset.json()["data"]][:1] == newest_first[2:]
    assert first.json()["meta"]["has_more"] is True
    assert forged.status_code == both.status_code == 400


def test_v1_input_rules(world, api):
    unknown_field = _create(api, world, curve_key="x")  # PpaContractCreate has additionalProperties: false
    bad_terms = api.post(
        f"{V1}/contracts", {"terms": {"volume_mwh": -1}}, format="json", **world.acme.auth("trader")
    )
    contract = _create(api, world).json()["data"]
    no_scenario = api.post(
        f"{V1}/valuate",
        {"ppa_contract_id": contract["ppa_contract_id"]},
        format="json",
        **world.acme.auth("analyst"),
    )
    unknown_contract = api.post(
        f"{V1}/valuate",
        {"ppa_contract_id": "0" * 32, "scenario_id": "x"},
        format="json",
        **world.acme.auth("analyst"),
    )
    unknown_scenario = api.post(
        f"{V1}/valuate",
        {
            "ppa_contract_id": contract["ppa_contract_id"],
            "scenario_id": "00000000-0000-0000-0000-000000000001",
        },
        format="json",
        **world.acme.auth("analyst"),
    )

    assert unknown_field.status_code == 400
    assert bad_terms.status_code == 400
    assert {e["field"] for e in bad_terms.json()["errors"]} == {"terms.price_usd_mwh", "terms.volume_mwh"}
    assert no_scenario.status_code == 400
    assert no_scenario.json()["errors"][0]["field"] == "scenario_id"
    assert unknown_contract.status_code == 404
    assert unknown_scenario.status_code == 404


@pytest.fixture
def scenario_run(world, german_power, catalogued):
    """A succeeded run of a policy scenario (+1.0 from contract year 2027, spec 4) on the real curve."""
    catalogued("vendor:EUGP", PPA_DAY)
    with schema_context("acme"):
        from tenants.models import Tenant

        tenant = Tenant.objects.select_related("plan").get(schema_name="acme")
        scenario = scenario_create(
            tenant=tenant,
            name="PPA carbon 2027",
            actor=None,
            assumptions=[POLICY],
            selection=CurveSelection(curve_keys=(german_power.curve_key,), base_asof=PPA_DAY),
        )
        submitted = scenario_run_submit(tenant=tenant, scenario=scenario, options=RunOptions(), actor=None)
        run = scenario_run_execute(run_id=str(submitted.run.pk), tenant=tenant)
        assert run is not None and run.status == ScenarioRun.Status.SUCCEEDED, run and run.error_message
    return run


def _scenario_expectation(german_power: Any) -> tuple[list[tuple[date, float]], list[float], float]:
    months = [
        (month, mid + (1.0 if month.year >= 2027 else 0.0))
        for month, mid in expected.window(german_power.monthly_mids(), date(2026, 7, 1), date(2027, 6, 30))
    ]
    flows = expected.cashflows(months, 60.0, 800.0)
    return months, flows, expected.npv(months, flows, 0.07, 150_000.0)


def test_v1_valuate_uses_the_scenarios_latest_run_and_stores_rows(world, api, german_power, scenario_run):
    contract = _create(api, world).json()["data"]
    contract_id = contract["ppa_contract_id"]
    months, flows, want_npv = _scenario_expectation(german_power)

    valued = api.post(
        f"{V1}/valuate",
        {"ppa_contract_id": contract_id, "scenario_id": str(scenario_run.scenario_id)},
        format="json",
        **world.acme.auth("analyst"),
    )
    listed = api.get(f"{V1}/contracts/{contract_id}/valuations", **world.acme.auth("viewer"))
    npv_only = api.get(
        f"{V1}/contracts/{contract_id}/valuations", {"metric": "NPV"}, **world.acme.auth("viewer")
    )
    other_scenario = api.get(
        f"{V1}/contracts/{contract_id}/valuations", {"scenario_id": "nope"}, **world.acme.auth("viewer")
    )

    assert_contract("/v1/ppa/valuate", valued, method="post")
    metrics = valued.json()["data"]
    assert len(months) == 12
    assert [m["metric"] for m in metrics] == ["cashflow"] * 12 + ["NPV", "IRR"]
    assert [m["value"] for m in metrics[:12]] == pytest.approx(flows, abs=1e-6)
    assert metrics[12]["value"] == pytest.approx(want_npv, abs=1e-6)
    assert {m["run_id"] for m in metrics} == {str(scenario_run.pk)}
    assert {m["curve_key"] for m in metrics} == {german_power.curve_key}
    assert metrics[13]["unit"] == "ratio"
    assert_contract("/v1/ppa/contracts/{contract_id}/valuations", listed, method="get")
    records = listed.json()["data"]
    assert len(records) == 14
    assert {r["scenario_id"] for r in records} == {str(scenario_run.scenario_id)}
    assert [r["npv"] for r in npv_only.json()["data"]] == [pytest.approx(want_npv, abs=5e-7)]
    assert other_scenario.json()["data"] == []


def test_v1_valuate_with_an_idempotency_key_answers_the_stored_valuation_once(world, api, scenario_run):
    contract_id = _create(api, world).json()["data"]["ppa_contract_id"]
    body = {"ppa_contract_id": contract_id, "scenario_id": str(scenario_run.scenario_id)}

    def valuate(**request: Any) -> Any:
        return api.post(
            f"{V1}/valuate",
            request,
            format="json",
            HTTP_IDEMPOTENCY_KEY="nightly-7",
            **world.acme.auth("analyst"),
        )

    first = valuate(**body)
    again = valuate(**body)
    changed = valuate(**body, options={"discount_rate": 0.2})

    assert_contract("/v1/ppa/valuate", first, method="post")
    assert_contract("/v1/ppa/valuate", again, method="post")
    assert again.json()["data"] == first.json()["data"] and len(first.json()["data"]) == 14
    assert again["Idempotent-Replayed"] == "true"
    assert changed.status_code == 422
    assert changed.json()["type"] == "https://aurum.dev/problems/idempotency-key-reused"
    with schema_context("acme"):
        assert PpaValuation.objects.filter(contract_id=contract_id).count() == 1


def test_v2_values_a_scenario_run_by_id(world, api, german_power, scenario_run):
    created = api.post(
        "/api/v2/ppa/contracts", {"terms": TERMS}, format="json", **world.acme.auth("trader")
    ).json()["data"]
    months, flows, want_npv = _scenario_expectation(german_power)
    roots = expected.irr_by_roots(150_000.0, flows)

    response = api.post(
        f"/api/v2/ppa/contracts/{created['id']}/valuations",
        {"scenario_run_id": str(scenario_run.pk)},
        format="json",
        **world.acme.auth("analyst"),
    )

    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert (data["source"], data["scenario_run_id"], data["scenario_id"]) == (
        "scenario_run",
        str(scenario_run.pk),
        str(scenario_run.scenario_id),
    )
    assert data["asof"] == PPA_DAY.isoformat()
    assert data["npv"] == pytest.approx(want_npv, abs=1e-6)
    assert all(f > 0 for f in flows) and len(roots) == 1  # one sign change: one IRR
    assert data["irr"] == pytest.approx(roots[0], abs=1e-9)
    assert [c["price"] for c in data["cashflows"]] == pytest.approx([p for _, p in months], abs=1e-9)
    with schema_context("acme"):
        assert PpaValuation.objects.get(pk=data["id"]).source_snapshot_id == scenario_run.output_snapshot_id
