"""Idempotency keys mean the same request (Stripe's rule): the same key with the same parameters returns the
run it made; the same key with other parameters is a 422 and changes nothing. On v1 run, v2 runs and bulk."""

from __future__ import annotations

from typing import Any

import pytest
from django_tenants.utils import schema_context

from apps.scenarios.models import ScenarioRun
from tests.support.scenarios import POLICY

KEY_REUSED = "https://aurum.dev/problems/idempotency-key-reused"


@pytest.fixture
def trader(api, world):
    def call(method: str, path: str, data: Any = None, **extra: Any) -> Any:
        return getattr(api, method)(path, data, format="json", **world.acme.auth("trader"), **extra)

    return call


@pytest.fixture
def scenario_id(trader, eugp_curves) -> str:
    body = {"name": "Keys", "assumptions": [POLICY], "curve_keys": list(eugp_curves.curve_keys)}
    created = trader("post", "/api/v2/scenarios", {**body, "base_asof": eugp_curves.asof.isoformat()})
    return str(created.json()["data"]["id"])


def _runs(scenario_id: str) -> list[tuple[str, str]]:
    with schema_context("acme"):
        runs = ScenarioRun.objects.filter(scenario_id=scenario_id).order_by("queued_at")
        return [(str(run.pk), run.idempotency_key) for run in runs]


def test_v2_the_same_key_and_parameters_return_the_run_other_parameters_are_422(trader, scenario_id):
    path = f"/api/v2/scenarios/{scenario_id}/runs"
    first = trader("post", path, {"seed": 1, "priority": "high"}, HTTP_IDEMPOTENCY_KEY="v2-k")
    again = trader("post", path, {"priority": "high", "seed": 1}, HTTP_IDEMPOTENCY_KEY="v2-k")
    other_seed = trader("post", path, {"seed": 2, "priority": "high"}, HTTP_IDEMPOTENCY_KEY="v2-k")
    other_priority = trader(
        "post", path, {"seed": 1}, HTTP_IDEMPOTENCY_KEY="v2-k"
    )  # priority defaults normal

    run_id = first.json()["data"]["id"]
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["data"]["id"] == run_id
    assert other_seed.status_code == other_priority.status_code == 422
    body = other_seed.json()
    assert other_seed["Content-Type"] == "application/problem+json"
    assert (body["type"], body["idempotency_key"], body["existing_run_id"]) == (KEY_REUSED, "v2-k", run_id)
    assert body["detail"] == (
        "Idempotency key 'v2-k' was used with other parameters; use a new key for a new request."
    )
    assert _runs(scenario_id) == [(run_id, "v2-k")]


def test_v1_the_same_key_and_parameters_return_the_run_other_parameters_are_422(trader, scenario_id):
    path = f"/api/v1/scenarios/{scenario_id}/run"
    first = trader("post", path, {"seed": 4}, HTTP_IDEMPOTENCY_KEY="v1-k")
    again = trader("post", path, {"seed": 4, "idempotency_key": "v1-k"})  # the key in the body, as v1 allows
    defaults_spelt_out = trader("post", path, {"seed": 4, "timeout_minutes": 60}, HTTP_IDEMPOTENCY_KEY="v1-k")
    other = trader("post", path, {"seed": 4, "parameters": {"n_paths": 50}}, HTTP_IDEMPOTENCY_KEY="v1-k")

    run_id = first.json()["data"]["id"]
    assert first.status_code == again.status_code == defaults_spelt_out.status_code == 202
    assert again.json()["data"]["id"] == defaults_spelt_out.json()["data"]["id"] == run_id
    assert other.status_code == 422 and other.json()["type"] == KEY_REUSED
    assert _runs(scenario_id) == [(run_id, "v1-k")]


def test_bulk_the_same_key_and_runs_are_duplicates_other_runs_are_422_and_nothing_is_made(
    trader, scenario_id
):
    path = f"/api/v1/scenarios/{scenario_id}/runs:bulk"
    first = trader("post", path, {"runs": [{"seed": 1}, {"seed": 2}], "idempotency_key": "b-k"})
    again = trader("post", path, {"runs": [{"seed": 1}, {"seed": 2}]}, HTTP_IDEMPOTENCY_KEY="b-k")
    other = trader("post", path, {"runs": [{"seed": 1}, {"seed": 3}, {"seed": 9}], "idempotency_key": "b-k"})
    one_key_twice = trader(
        "post", path, {"runs": [{"seed": 7, "idempotency_key": "x"}, {"seed": 8, "idempotency_key": "x"}]}
    )

    made = [item["run_id"] for item in first.json()["data"]]
    assert first.status_code == again.status_code == 202
    assert [d["existing_run_id"] for d in again.json()["duplicates"]] == made
    assert again.json()["meta"]["successful_runs"] == 0
    assert other.status_code == 422
    assert other.json()["runs"] == [{"index": 1, "idempotency_key": "b-k:1", "existing_run_id": made[1]}]
    assert one_key_twice.status_code == 422
    assert one_key_twice.json()["runs"] == [{"index": 1, "idempotency_key": "x", "existing_run_id": None}]
    assert _runs(scenario_id) == [(made[0], "b-k:0"), (made[1], "b-k:1")]  # item 2 (seed 9) was not made
