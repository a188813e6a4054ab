"""The original v1 contract's administrative scenario paths over HTTP: a run's state set by an administrator
(through the cancel and fail services) and the invalidation of cached outputs answers.

Runs are executed in the test's transaction by the service a worker calls (as in test_scenario_api.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django_tenants.utils import schema_context

from apps.accounts.models import Membership
from apps.accounts.roles import role_permissions
from apps.accounts.services import api_token_create
from apps.audit.models import AuditEntry
from apps.scenarios.models import ScenarioRun, ScenarioRunEvent
from apps.scenarios.services.admin import scenario_run_fail_by_admin
from apps.scenarios.services.dispatch import scenario_runs_dispatch
from apps.scenarios.services.execution import scenario_run_execute
from aurum.observability.metrics import READ_CACHE_REQUESTS
from tenants.models import Tenant
from tests.support.contract import assert_contract
from tests.support.scenarios import POLICY


def _body(curves: Any, name: str = "Admin paths") -> dict[str, Any]:
    return {
        "name": name,
        "assumptions": [POLICY],
        "parameters": {"curve_keys": list(curves.curve_keys), "base_asof": curves.asof.isoformat()},
    }


@pytest.fixture
def call(api, world):
    def request(role: str, method: str, path: str, data: Any = None, **extra: Any) -> Any:
        return getattr(api, method)(path, data, format="json", **world.acme.auth(role), **extra)

    return request


def _scenario_and_run(call: Any, curves: Any, name: str = "Admin paths") -> tuple[str, str]:
    scenario_id = call("trader", "post", "/api/v1/scenarios", _body(curves, name)).json()["data"]["id"]
    run = call("trader", "post", f"/api/v1/scenarios/{scenario_id}/run", {"seed": 7})
    assert run.status_code == 202, run.content
    return scenario_id, run.json()["data"]["id"]


def _execute(run_id: str) -> None:
    acme = Tenant.objects.select_related("plan").get(schema_name="acme")
    with schema_context("acme"):
        run = scenario_run_execute(run_id=run_id, tenant=acme)
    assert run is not None and run.status == "succeeded", run and run.error_message


def _run(run_id: str) -> ScenarioRun:
    with schema_context("acme"):
        return ScenarioRun.objects.get(pk=run_id)


def _audit(action: str, resource_id: str) -> list[AuditEntry]:
    with schema_context("acme"):
        return list(AuditEntry.objects.filter(action=action, resource_id=resource_id))


def _cache_count(result: str) -> float:
    return READ_CACHE_REQUESTS.labels(scope="scenario_outputs", result=result)._value.get()


# --- POST /v1/scenarios/runs/{run_id}/state -----------------------------------------------------------------


def test_an_admin_cancels_a_queued_run_through_the_query_state(call, eugp_curves):
    _, run_id = _scenario_and_run(call, eugp_curves)

    response = call("admin", "post", f"/api/v1/scenarios/runs/{run_id}/state?state=CANCELLED")

    assert_contract("/v1/scenarios/runs/{run_id}/state", response, method="post", status=200)
    assert response.json()["data"]["status"] == "cancelled"
    assert response["Deprecation"] == "true"
    run = _run(run_id)
    assert run.status == "cancelled" and run.cancelled_at is not None
    assert len(_audit("run.cancel", run_id)) == 1


def test_an_admin_fails_a_queued_run_with_its_error_on_the_original_path(call, eugp_curves):
    _, run_id = _scenario_and_run(call, eugp_curves)

    response = call(
        "admin", "post", f"/v1/scenarios/runs/{run_id}/state", {"state": "failed", "error": "bad input feed"}
    )
    again = call("admin", "post", f"/v1/scenarios/runs/{run_id}/state", {"state": "FAILED", "error": "other"})

    assert_contract("/v1/scenarios/runs/{run_id}/state", response, method="post", status=200)
    data = response.json()["data"]
    assert data["status"] == "failed" and data["error_message"] == "bad input feed"
    assert again.status_code == 200 and again.json()["data"]["error_message"] == "bad input feed"
    run = _run(run_id)
    assert (run.status, run.error_message, run.completed_at is not None) == ("failed", "bad input feed", True)
    finished = _audit("run.finish", run_id)
    assert len(finished) == 1 and json.loads(finished[0].changes)["status"] == "failed"
    with schema_context("acme"):
        events = list(ScenarioRunEvent.objects.filter(run__pk=run_id).values_list("event_type", flat=True))
    assert events.count("failed") == 1


def test_a_run_failed_by_an_admin_says_so_in_its_error_code_on_v1_and_v2(call, eugp_curves):
    scenario_id, failed_id = _scenario_and_run(call, eugp_curves)
    _, cancelled_id = _scenario_and_run(call, eugp_curves, name="Admin paths, cancelled")
    before = call("viewer", "get", f"/api/v2/scenario-runs/{failed_id}").json()["data"]["error_code"]

    failed = call(
        "admin", "post", f"/v1/scenarios/runs/{failed_id}/state", {"state": "FAILED", "error": "bad feed"}
    )
    cancelled = call("admin", "post", f"/v1/scenarios/runs/{cancelled_id}/state", {"state": "CANCELLED"})
    v1_run = call("viewer", "get", f"/v1/scenarios/{scenario_id}/runs/{failed_id}")
    v2_failed = call("viewer", "get", f"/api/v2/scenario-runs/{failed_id}").json()["data"]
    v2_cancelled = call("viewer", "get", f"/api/v2/scenario-runs/{cancelled_id}").json()["data"]

    assert before is None
    # v1: the contract's ScenarioRunData takes no other field; the code is in the answer's (free) meta.
    assert_contract("/v1/scenarios/runs/{run_id}/state", failed, method="post", status=200)
    assert_contract("/v1/scenarios/{scenario_id}/runs/{run_id}", v1_run)
    assert (failed.json()["data"]["status"], failed.json()["meta"]["error_code"]) == (
        "failed",
        "ADMIN_FAILED",
    )
    assert (v1_run.json()["data"]["error_message"], v1_run.json()["meta"]["error_code"]) == (
        "bad feed",
        "ADMIN_FAILED",
    )
    assert (v2_failed["status"], v2_failed["error_code"], v2_failed["error_message"]) == (
        "failed",
        "ADMIN_FAILED",
        "bad feed",
    )
    # A cancel keeps its own meaning: cancelled, with no error code.
    assert (cancelled.json()["data"]["status"], cancelled.json()["meta"]["error_code"]) == ("cancelled", None)
    assert (v2_cancelled["status"], v2_cancelled["error_code"]) == ("cancelled", None)
    assert _run(failed_id).error_code == "ADMIN_FAILED"
    finished = _audit("run.finish", failed_id)
    assert [json.loads(e.changes)["error_code"] for e in finished] == ["ADMIN_FAILED"]
    with schema_context("acme"):
        event = ScenarioRunEvent.objects.get(run__pk=failed_id, event_type="failed")
    assert (event.data["code"], event.data["by"]) == ("ADMIN_FAILED", "admin")


def test_an_admin_fails_a_running_run_and_the_run_no_longer_runs(call, eugp_curves):
    _, run_id = _scenario_and_run(call, eugp_curves)
    with schema_context("acme"):
        ScenarioRun.objects.filter(pk=run_id).update(status="running", retry_count=0)

    response = call("admin", "post", f"/api/v1/scenarios/runs/{run_id}/state?state=FAILED&error=stuck")

    assert response.status_code == 200, response.content
    run = _run(run_id)
    assert (run.status, run.error_message) == ("failed", "stuck")


def test_failing_a_dispatched_run_frees_its_slot_for_the_next_queued_run(
    call, eugp_curves, django_capture_on_commit_callbacks
):
    acme = Tenant.objects.select_related("plan").get(schema_name="acme")
    acme.plan.concurrent_scenario_runs = 1
    acme.plan.save(update_fields=["concurrent_scenario_runs"])
    scenario_id, first = _scenario_and_run(call, eugp_curves)
    second = call("trader", "post", f"/api/v1/scenarios/{scenario_id}/run", {"seed": 8}).json()["data"]["id"]
    with schema_context("acme"):
        dispatched = scenario_runs_dispatch(tenant=acme)
        held = scenario_runs_dispatch(tenant=acme)
        with django_capture_on_commit_callbacks() as callbacks:
            scenario_run_fail_by_admin(run=ScenarioRun.objects.get(pk=first), tenant=acme, error="operator")
        freed = scenario_runs_dispatch(tenant=acme)

    assert (dispatched, held, freed) == ([first], [], [second])
    # the dispatcher is called again once the failure commits (beside the event's outbox)
    assert [c for c in callbacks if c.__qualname__.startswith("scenario_run_fail_by_admin")] != []
    assert _run(first).status == "failed"


@pytest.mark.parametrize("state", ["QUEUED", "RUNNING", "SUCCEEDED"])
def test_other_transitions_are_409_naming_the_allowed_ones_and_change_nothing(call, eugp_curves, state):
    _, run_id = _scenario_and_run(call, eugp_curves)

    response = call("admin", "post", f"/api/v1/scenarios/runs/{run_id}/state?state={state}")

    assert response.status_code == 409, response.content
    assert response.json()["allowed"] == ["CANCELLED", "FAILED"]
    assert "CANCELLED, FAILED" in response.json()["detail"]
    assert _run(run_id).status == "queued"
    assert _audit("run.cancel", run_id) == [] and _audit("run.finish", run_id) == []


def test_a_finished_run_cannot_be_failed_or_cancelled(call, eugp_curves):
    _, run_id = _scenario_and_run(call, eugp_curves)
    _execute(run_id)

    failed = call("admin", "post", f"/api/v1/scenarios/runs/{run_id}/state?state=FAILED&error=late")
    cancelled = call("admin", "post", f"/api/v1/scenarios/runs/{run_id}/state?state=CANCELLED")

    assert failed.status_code == 409 and cancelled.status_code == 409
    assert "succeeded" in failed.json()["detail"]
    run = _run(run_id)
    assert (run.status, run.error_message) == ("succeeded", "")


@pytest.mark.parametrize(
    ("query", "body"),
    [("", {}), ("?state=PAUSED", {}), ("?state=FAILED", {}), ("?state=FAILED&error=%20%20", {})],
)
def test_bad_input_is_400_and_changes_nothing(call, eugp_curves, query, body):
    _, run_id = _scenario_and_run(call, eugp_curves)

    response = call("admin", "post", f"/api/v1/scenarios/runs/{run_id}/state{query}", body)

    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert _run(run_id).status == "queued"


def test_the_state_change_needs_admin_and_scenarios_write(call, api, world, eugp_curves):
    _, run_id = _scenario_and_run(call, eugp_curves)
    admin = Membership.objects.get(pk=world.acme.members["admin"].membership_id)
    _, no_write = api_token_create(
        membership=admin, name="no-write", scopes=sorted(role_permissions("admin") - {"scenarios:write"})
    )
    path = f"/api/v1/scenarios/runs/{run_id}/state?state=CANCELLED"

    as_trader = call("trader", "post", path)
    as_token = api.post(path, format="json", HTTP_AUTHORIZATION=f"Bearer {no_write}")

    assert as_trader.status_code == 403 and as_token.status_code == 403
    assert _run(run_id).status == "queued"


def test_another_tenants_run_is_404(call, api, world, eugp_curves):
    _, run_id = _scenario_and_run(call, eugp_curves)

    response = api.post(
        f"/api/v1/scenarios/runs/{run_id}/state?state=CANCELLED", format="json", **world.globex.auth("admin")
    )

    assert response.status_code == 404
    assert _run(run_id).status == "queued"


# --- POST /v1/admin/cache/scenario/{scenario_id}/invalidate -------------------------------------------------


def test_a_cached_outputs_answer_is_recomputed_after_invalidation(call, eugp_curves):
    scenario_id, run_id = _scenario_and_run(call, eugp_curves)
    _execute(run_id)
    outputs = f"/api/v1/scenarios/{scenario_id}/outputs?metric=mid&limit=20"
    misses, hits = _cache_count("miss"), _cache_count("hit")

    first = call("viewer", "get", outputs)
    cached = call("viewer", "get", outputs)
    after_first = (_cache_count("miss") - misses, _cache_count("hit") - hits)
    invalidated = call("admin", "post", f"/v1/admin/cache/scenario/{scenario_id}/invalidate?tenant_id=acme")
    recomputed = call("viewer", "get", outputs)
    cached_again = call("viewer", "get", outputs)

    assert after_first == (1, 1)
    assert invalidated.status_code == 204 and invalidated.content == b""
    assert invalidated["Deprecation"] == "true"
    assert (_cache_count("miss") - misses, _cache_count("hit") - hits) == (2, 2)
    assert_contract("/v1/scenarios/{scenario_id}/outputs", recomputed, method="get", status=200)
    assert len(first.json()["data"]) == 20
    assert (
        first.json()["data"]
        == cached.json()["data"]
        == recomputed.json()["data"]
        == cached_again.json()["data"]
    )
    assert len(_audit("scenario.cache_invalidate", scenario_id)) == 1


def test_invalidating_one_scenario_keeps_the_others_cached(call, eugp_curves):
    one, run_one = _scenario_and_run(call, eugp_curves, "One")
    other, run_other = _scenario_and_run(call, eugp_curves, "Other")
    _execute(run_one)
    _execute(run_other)
    call("viewer", "get", f"/api/v1/scenarios/{other}/outputs?limit=5")
    misses, hits = _cache_count("miss"), _cache_count("hit")

    assert call("admin", "post", f"/api/v1/admin/cache/scenario/{one}/invalidate").status_code == 204
    call("viewer", "get", f"/api/v1/scenarios/{other}/outputs?limit=5")

    assert (_cache_count("miss") - misses, _cache_count("hit") - hits) == (0, 1)


def test_invalidation_refuses_other_tenants_and_non_admins(call, api, world, eugp_curves):
    scenario_id, _ = _scenario_and_run(call, eugp_curves)
    path = f"/api/v1/admin/cache/scenario/{scenario_id}/invalidate"

    other_tenant_id = call("admin", "post", f"{path}?tenant_id=globex")
    as_globex = api.post(path, format="json", **world.globex.auth("admin"))
    as_trader = call("trader", "post", path)
    unknown = call(
        "admin", "post", "/api/v1/admin/cache/scenario/00000000-0000-0000-0000-000000000000/invalidate"
    )

    assert other_tenant_id.status_code == 404 and as_globex.status_code == 404 and unknown.status_code == 404
    assert as_trader.status_code == 403
    assert _audit("scenario.cache_invalidate", scenario_id) == []
