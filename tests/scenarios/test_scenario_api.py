"""Scenario APIs over HTTP on real curves: v1 checked against the original contract, v2, tenant B's 404s.

Runs are executed in the test's transaction by the service a worker calls (the worker itself is exercised in
test_scenario_worker.py).
"""

from __future__ import annotations

import csv as csv_module
import io
from typing import Any

import pyarrow.parquet as pq
import pytest
from django_tenants.utils import schema_context

from apps.scenarios.services.execution import scenario_run_execute
from tests.support.contract import assert_contract
from tests.support.scenarios import POLICY


def _body(curves: Any, name: str = "Carbon 2027") -> dict[str, Any]:
    return {
        "tenant_id": "acme",
        "name": name,
        "description": "policy uplift",
        "assumptions": [POLICY],
        "parameters": {"curve_keys": list(curves.curve_keys), "base_asof": curves.asof.isoformat()},
        "tags": ["carbon"],
    }


@pytest.fixture
def trader(api, world):
    def call(method: str, path: str, data: Any = None, **extra: Any) -> Any:
        return getattr(api, method)(path, data, format="json", **world.acme.auth("trader"), **extra)

    return call


def _execute(run_id: str) -> None:
    from tenants.models import Tenant

    acme = Tenant.objects.select_related("plan").get(schema_name="acme")
    with schema_context("acme"):
        run = scenario_run_execute(run_id=run_id, tenant=acme)
    assert run is not None and run.status == "succeeded", run and run.error_message


def test_v1_scenario_lifecycle_matches_the_contract(trader, api, world, eugp_curves):
    created = trader("post", "/api/v1/scenarios", _body(eugp_curves))
    scenario_id = created.json()["data"]["id"]
    fetched = trader("get", f"/api/v1/scenarios/{scenario_id}")
    listed = trader("get", "/api/v1/scenarios", {"name": "carbon", "status": "CREATED"})
    duplicate = trader("post", "/api/v1/scenarios", _body(eugp_curves, name="CARBON 2027"))
    invalid = trader(
        "post", "/api/v1/scenarios", {**_body(eugp_curves, "Bad"), "assumptions": [{"driver_type": "nope"}]}
    )
    as_viewer = api.post(
        "/api/v1/scenarios", _body(eugp_curves, "V"), format="json", **world.acme.auth("viewer")
    )

    assert_contract("/v1/scenarios", created, method="post", status=201)
    assert_contract("/v1/scenarios/{scenario_id}", fetched, method="get", status=200)
    assert_contract("/v1/scenarios", listed, method="get", status=200)
    data = fetched.json()["data"]
    assert (data["unique_key"], data["status"], data["version"]) == ("acme:carbon-2027", "created", 1)
    assert data["metadata"]["curve_keys"] == list(eugp_curves.curve_keys)
    assert [s["id"] for s in listed.json()["data"]] == [scenario_id]
    assert duplicate.status_code == 409
    assert invalid.status_code == 400
    assert invalid.json()["errors"][0]["code"] == "UNSUPPORTED_DRIVER_TYPE"
    assert invalid.json()["errors"][0]["field"] == "assumptions[0].driver_type"
    assert as_viewer.status_code == 403
    assert fetched["Deprecation"] == "true"


def test_v1_runs_are_idempotent_and_outputs_page_with_cursors_csv_and_etag(trader, eugp_curves):
    scenario_id = trader("post", "/api/v1/scenarios", _body(eugp_curves)).json()["data"]["id"]

    run = trader("post", f"/api/v1/scenarios/{scenario_id}/run", {"seed": 3, "priority": "high"})
    again = trader("post", f"/api/v1/scenarios/{scenario_id}/run", {"seed": 3, "priority": "high"})
    keyed = trader("post", f"/api/v1/scenarios/{scenario_id}/run", {"seed": 4}, HTTP_IDEMPOTENCY_KEY="abc-1")
    keyed_again = trader(
        "post", f"/api/v1/scenarios/{scenario_id}/run", {"seed": 4, "idempotency_key": "abc-1"}
    )
    run_id = run.json()["data"]["id"]
    _execute(run_id)
    detail = trader("get", f"/api/v1/scenarios/{scenario_id}/runs/{run_id}")
    runs = trader("get", f"/api/v1/scenarios/{scenario_id}/runs", {"state": "SUCCEEDED"})
    page1 = trader("get", f"/api/v1/scenarios/{scenario_id}/outputs", {"metric": "mid", "limit": 50})
    cursor = page1.json()["meta"]["next_cursor"]
    page2 = trader(
        "get", f"/api/v1/scenarios/{scenario_id}/outputs", {"metric": "mid", "limit": 50, "cursor": cursor}
    )
    wrong_filters = trader(
        "get", f"/api/v1/scenarios/{scenario_id}/outputs", {"metric": "uplift", "limit": 50, "cursor": cursor}
    )
    not_modified = trader(
        "get",
        f"/api/v1/scenarios/{scenario_id}/outputs",
        {"metric": "mid", "limit": 50},
        HTTP_IF_NONE_MATCH=page1["ETag"],
    )
    csv = trader(
        "get", f"/api/v1/scenarios/{scenario_id}/outputs", {"metric": "mid", "format": "csv", "limit": 500}
    )
    latest = trader("get", f"/api/v1/scenarios/{scenario_id}/metrics/latest")

    assert_contract("/v1/scenarios/{scenario_id}/run", run, method="post", status=202)
    assert run.json()["data"]["status"] == "queued"
    assert again.json()["data"]["id"] == run_id
    assert keyed_again.json()["data"]["id"] == keyed.json()["data"]["id"] != run_id
    assert_contract("/v1/scenarios/{scenario_id}/runs/{run_id}", detail, method="get", status=200)
    assert detail.json()["data"]["status"] == "succeeded"
    assert_contract("/v1/scenarios/{scenario_id}/runs", runs, method="get", status=200)
    assert [r["id"] for r in runs.json()["data"]] == [run_id]
    assert_contract("/v1/scenarios/{scenario_id}/outputs", page1, method="get", status=200)
    assert_contract("/v1/scenarios/{scenario_id}/outputs", page2, method="get", status=200)
    first, second = page1.json()["data"], page2.json()["data"]
    assert len(first) == len(second) == 50
    keys = [(p["tags"]["curve_key"], p["tags"]["tenor_label"]) for p in first + second]
    assert len(set(keys)) == 100 and keys == sorted(keys)
    assert wrong_filters.status_code == 400
    assert not_modified.status_code == 304
    # The CSV's values are the base mids moved by the policy (+1.0 from 2027).
    rows = list(csv_module.DictReader(io.StringIO(csv.content.decode())))
    assert csv["Content-Type"].startswith("text/csv")
    assert len(rows) == min(500, eugp_curves.rows.num_rows)  # one page; the cursor is in X-Next-Cursor
    assert csv["X-Next-Cursor"]
    for row in rows:
        base = eugp_curves.mids(row["curve_key"])[row["tenor_label"]]
        assert float(row["value"]) == pytest.approx(base + (1.0 if row["contract_month"] >= "2027" else 0.0))
    assert_contract("/v1/scenarios/{scenario_id}/metrics/latest", latest, method="get", status=200)
    expected_mean = (
        sum(
            eugp_curves.mids(k)[t] + (1.0 if m.year >= 2027 else 0.0)
            for k, t, m in zip(
                eugp_curves.rows.column("curve_key").to_pylist(),
                eugp_curves.rows.column("tenor_label").to_pylist(),
                eugp_curves.rows.column("contract_month").to_pylist(),
                strict=True,
            )
        )
        / eugp_curves.rows.num_rows
    )
    assert latest.json()["data"]["value"] == pytest.approx(expected_mean)


def test_v1_cancel_and_bulk(trader, eugp_curves):
    scenario_id = trader("post", "/api/v1/scenarios", _body(eugp_curves)).json()["data"]["id"]
    run_id = trader("post", f"/api/v1/scenarios/{scenario_id}/run", {"seed": 1}).json()["data"]["id"]

    cancelled = trader("post", f"/api/v1/scenarios/runs/{run_id}/cancel")
    again = trader("post", f"/api/v1/scenarios/runs/{run_id}/cancel")
    bulk = trader(
        "post",
        f"/api/v1/scenarios/{scenario_id}/runs:bulk",
        {"runs": [{"seed": 10}, {"seed": 11}, {"seed": 10}], "idempotency_key": "batch-1"},
    )
    bulk_again = trader(
        "post",
        f"/api/v1/scenarios/{scenario_id}/runs:bulk",
        {"runs": [{"seed": 10}], "idempotency_key": "batch-1"},
    )
    too_many = trader(
        "post", f"/api/v1/scenarios/{scenario_id}/runs:bulk", {"runs": [{"seed": i} for i in range(101)]}
    )

    assert_contract("/v1/scenarios/runs/{run_id}/cancel", cancelled, method="post", status=200)
    assert cancelled.json()["data"]["status"] == again.json()["data"]["status"] == "cancelled"
    assert again.json()["data"]["cancelled_at"] == cancelled.json()["data"]["cancelled_at"]
    assert bulk.status_code == 202
    body = bulk.json()
    assert body["meta"]["total_runs"] == 3 and body["meta"]["successful_runs"] == 2
    assert [d["idempotency_key"] for d in body["data"]] == ["batch-1:0", "batch-1:1"]
    assert body["duplicates"][0]["index"] == 2
    assert body["duplicates"][0]["existing_run_id"] == body["data"][0]["run_id"]
    assert bulk_again.json()["duplicates"][0]["existing_run_id"] == body["data"][0]["run_id"]
    assert too_many.status_code == 400


def test_v2_runs_outputs_formats_and_compare(trader, eugp_curves):
    created = trader(
        "post",
        "/api/v2/scenarios",
        {
            "name": "V2 carbon",
            "assumptions": [POLICY],
            "curve_keys": list(eugp_curves.curve_keys),
            "base_asof": eugp_curves.asof.isoformat(),
        },
    )
    scenario_id = created.json()["data"]["id"]
    base = trader(
        "post",
        "/api/v2/scenarios",
        {
            "name": "V2 base",
            "curve_keys": list(eugp_curves.curve_keys),
            "base_asof": eugp_curves.asof.isoformat(),
        },
    ).json()["data"]["id"]

    first = trader("post", f"/api/v2/scenarios/{scenario_id}/runs", {"seed": 1}, HTTP_IDEMPOTENCY_KEY="v2-a")
    same = trader("post", f"/api/v2/scenarios/{scenario_id}/runs", {"seed": 1}, HTTP_IDEMPOTENCY_KEY="v2-a")
    base_run = trader("post", f"/api/v2/scenarios/{base}/runs", {}).json()["data"]["id"]
    run_id = first.json()["data"]["id"]
    _execute(run_id)
    _execute(base_run)
    run = trader("get", f"/api/v2/scenario-runs/{run_id}")
    page = trader("get", f"/api/v2/scenario-runs/{run_id}/outputs", {"metric": "mid", "limit": 5})
    nxt = trader("get", page.json()["links"]["next"])
    parquet = trader("get", f"/api/v2/scenario-runs/{run_id}/outputs", {"format": "parquet"})
    compare = trader("get", f"/api/v2/scenario-runs/{base_run}/compare", {"other": run_id})
    listed = trader("get", f"/api/v2/scenarios/{scenario_id}/runs")

    assert created.status_code == 201 and created.json()["data"]["validation"]["is_valid"] is True
    assert first.status_code == 201 and same.status_code == 200
    assert same.json()["data"]["id"] == run_id
    data = run.json()["data"]
    assert data["status"] == "succeeded" and data["curve_snapshot_id"] is not None
    assert data["output_rows"] == 3 * eugp_curves.rows.num_rows and len(data["output_hash"]) == 64
    assert len(page.json()["data"]) == 5 and 'rel="next"' in page["Link"]
    assert nxt.json()["data"][0] != page.json()["data"][0]
    table = pq.read_table(io.BytesIO(parquet.content))
    assert table.num_rows == data["output_rows"]
    deltas = compare.json()["data"]
    assert len(deltas) == eugp_curves.rows.num_rows
    for row in deltas:  # the policy adds exactly 1.0 from contract year 2027, nothing before
        assert row["delta"] == pytest.approx(1.0 if row["contract_month"] >= "2027" else 0.0, abs=1e-9)
    assert [r["id"] for r in listed.json()["data"]] == [run_id]


def test_tenant_b_gets_404_for_tenant_a_scenario_runs_and_outputs(trader, api, world, eugp_curves):
    scenario_id = trader("post", "/api/v1/scenarios", _body(eugp_curves)).json()["data"]["id"]
    run_id = trader("post", f"/api/v1/scenarios/{scenario_id}/run", {}).json()["data"]["id"]
    _execute(run_id)
    globex = world.globex.auth("admin")

    paths = [
        f"/api/v1/scenarios/{scenario_id}",
        f"/api/v1/scenarios/{scenario_id}/runs/{run_id}",
        f"/api/v1/scenarios/{scenario_id}/outputs",
        f"/api/v2/scenario-runs/{run_id}",
        f"/api/v2/scenario-runs/{run_id}/outputs?format=csv",
    ]
    for path in paths:
        assert api.get(path, **globex).status_code == 404, path
    assert api.post(f"/api/v1/scenarios/runs/{run_id}/cancel", **globex).status_code == 404
    assert trader("get", f"/api/v2/scenario-runs/{run_id}").json()["data"]["status"] == "succeeded"


# The token (1; the tenant's search path is set already, decision 0057), then: the page of scenarios and
# their assumptions (2); or the scenario with its assumptions and the page of runs (3). The same whatever the
# page size.
QUERIES = {
    "/api/v2/scenarios": 3,
    "/api/v2/scenarios/{scenario_id}/runs": 4,
    "/api/v1/scenarios": 3,
    "/api/v1/scenarios/{scenario_id}/runs": 4,
}
LISTS = [
    "/api/v2/scenarios",
    "/api/v2/scenarios/{scenario_id}/runs",
    "/api/v1/scenarios",
    "/api/v1/scenarios/{scenario_id}/runs",
]


@pytest.mark.parametrize("route", LISTS)
def test_scenario_and_run_lists_send_an_etag_answer_304_and_pin_their_queries(
    route, trader, eugp_curves, django_assert_num_queries
):
    ids = [
        trader("post", "/api/v1/scenarios", _body(eugp_curves, f"List {i}")).json()["data"]["id"]
        for i in range(3)
    ]
    for seed in range(3):
        trader("post", f"/api/v2/scenarios/{ids[0]}/runs", {"seed": seed})
    path = route.format(scenario_id=ids[0])

    with django_assert_num_queries(QUERIES[route]):
        first = trader("get", path, {"limit": 2})
    again = trader("get", path, {"limit": 2}, HTTP_IF_NONE_MATCH=first["ETag"])
    for i in range(3, 6):  # more rows: the same queries
        trader("post", "/api/v1/scenarios", _body(eugp_curves, f"List {i}"))
        trader("post", f"/api/v2/scenarios/{ids[0]}/runs", {"seed": i})
    with django_assert_num_queries(QUERIES[route]):
        trader("get", path, {"limit": 5})

    assert first.status_code == 200 and len(first.json()["data"]) == 2
    assert first["ETag"].startswith('"') and first["Cache-Control"] == "private, no-cache"
    assert first.json()["meta"]["has_more"] is True
    assert again.status_code == 304 and again["ETag"] == first["ETag"]
