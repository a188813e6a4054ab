"""The original Aurum's paths: integrators of the original call ``/v1/...``, ``/health`` and ``/ready``, not
``/api/v1/...``. Every v1 route answers at its original path exactly what it answers under ``/api/v1/``
(the isolation, caching and list suites run their /api/v1/ cases at the /v1/ paths too:
tests/support/routes.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.routes import ORIGINAL_V1, OWN_GET_PATHS, OWN_GET_STATUS, original_path
from tests.support.world import World

V1_GET_PATTERNS = sorted(pattern for pattern in OWN_GET_PATHS if pattern.startswith(ORIGINAL_V1[0]))
# Differ between any two calls (the request's own id and timing) or by path (a signed cursor is bound to the
# path it was issued for; test_a_cursor_pages_on_at_the_original_path follows one).
VOLATILE_META = ("request_id", "query_time_ms", "next_cursor", "prev_cursor")


def comparable(response: Any) -> Any:
    if response["Content-Type"] == "application/problem+json":
        return {k: v for k, v in response.json().items() if k not in ("instance", "request_id", "timestamp")}
    if response["Content-Type"] != "application/json":
        return response.content
    body = response.json()
    if isinstance(body, dict) and isinstance(body.get("meta"), dict):
        body["meta"] = {k: v for k, v in body["meta"].items() if k not in VOLATILE_META}
    return body


def test_every_v1_route_is_served_at_its_original_path_too() -> None:
    assert len(V1_GET_PATTERNS) >= 20
    originals = {pattern for pattern in OWN_GET_PATHS if pattern.startswith(ORIGINAL_V1[1])}
    assert {ORIGINAL_V1[1] + p.removeprefix(ORIGINAL_V1[0]) for p in V1_GET_PATTERNS} == originals


@pytest.mark.parametrize("pattern", V1_GET_PATTERNS)
def test_the_original_path_answers_what_the_api_v1_path_answers(
    acme_objects: Any, world: World, api: Any, pattern: str
) -> None:
    path = OWN_GET_PATHS[pattern](acme_objects)
    auth = world.acme.auth("admin")

    ours = api.get(path, **auth)
    original = api.get(original_path(path), **auth)

    assert original.status_code == ours.status_code == OWN_GET_STATUS.get(pattern, 200)
    assert comparable(original) == comparable(ours)
    assert original["Deprecation"] == "true"
    assert original["X-API-Version"] == "v1"


def test_a_cursor_pages_on_at_the_original_path(acme_objects: Any, world: World, api: Any) -> None:
    path = OWN_GET_PATHS["api/v1/scenarios/<str:scenario_id>/outputs"](acme_objects)
    auth = world.acme.auth("admin")
    ours = api.get(path, {"limit": 2}, **auth).json()
    original = api.get(original_path(path), {"limit": 2}, **auth).json()

    ours_next = api.get(path, {"limit": 2, "cursor": ours["meta"]["next_cursor"]}, **auth)
    original_next = api.get(
        original_path(path), {"limit": 2, "cursor": original["meta"]["next_cursor"]}, **auth
    )

    assert original_next.status_code == ours_next.status_code == 200
    assert original_next.json()["data"] == ours_next.json()["data"] != ours["data"]


def test_a_scenario_created_at_the_original_path_is_the_same_scenario(world: World, api: Any) -> None:
    auth = world.acme.auth("admin")
    created = api.post("/v1/scenarios", {"name": "Original path", "assumptions": []}, format="json", **auth)
    assert created.status_code == 201, created.content
    scenario_id = created.json()["data"]["id"]

    read = api.get(f"/api/v1/scenarios/{scenario_id}", **auth)

    assert read.status_code == 200
    assert read.json()["data"]["name"] == "Original path"
    assert api.delete(f"/v1/scenarios/{scenario_id}", **auth).status_code == 204
    assert api.get(f"/api/v1/scenarios/{scenario_id}", **auth).status_code == 404


@pytest.mark.parametrize(
    ("probe", "ours"), [(p, "/health/live") for p in ("/health", "/healthz", "/live", "/livez")]
)
def test_the_originals_liveness_probes_answer_like_health_live(api: Any, probe: str, ours: str) -> None:
    response = api.get(probe)

    assert response.status_code == 200
    assert response.json() == api.get(ours).json() == {"status": "ok"}


@pytest.mark.parametrize("probe", ["/ready", "/readyz"])
def test_the_originals_readiness_probes_answer_like_health_ready(world: World, api: Any, probe: str) -> None:
    response = api.get(probe)
    ours = api.get("/health/ready")

    assert response.status_code == ours.status_code
    assert (
        set(response.json()["checks"])
        == set(ours.json()["checks"])
        == {"postgres", "redis", "warehouse", "worker"}
    )


def test_the_api_schema_documents_each_view_once_under_api_v1(world: World, api: Any) -> None:
    response = api.get(
        "/api/v2/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json", **world.acme.auth("admin")
    )
    document = json.loads(response.content)

    assert "/api/v1/curves" in document["paths"]
    assert not [
        path for path in document["paths"] if path.startswith("/v1/") or path in ("/health", "/ready")
    ]
