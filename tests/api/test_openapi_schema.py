"""The OpenAPI document behind ``/api/v2/docs/`` (and any client generator or fuzzer fed from it), as its
reader relies on it: every v1 and v2 route of the tenant URLconf is in it with each method its view answers,
every operation has a unique, stable id and a tag (v1's apart from v2's), and says what a success answers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from tests.support.routes import DOCS_ROUTES, api_patterns, canonical_pattern, url_patterns, view_methods
from tests.support.world import World

pytestmark = pytest.mark.django_db  # the test database is created for sessions that have a database test
HTTP_METHODS = {"get", "put", "post", "patch", "delete"}


def openapi_path(route: str) -> str:
    """``api/v2/tokens/<int:token_id>`` → ``/api/v2/tokens/{token_id}``."""
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


@pytest.fixture(scope="module")
def schema(session_world: World, django_db_blocker: Any) -> dict[str, Any]:
    """The document as the docs page fetches it: on acme's host with its admin's token. Fetched once for the
    module (generating it takes a second or two); whatever the request writes is rolled back."""
    from rest_framework.test import APIClient

    client: Any = APIClient()
    with django_db_blocker.unblock(), transaction.atomic():
        response = client.get(
            "/api/v2/schema/",
            HTTP_HOST="acme.localhost",
            HTTP_ACCEPT="application/vnd.oai.openapi+json",
            **session_world.acme.auth("admin"),
        )
        transaction.set_rollback(True)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    document: dict[str, Any] = response.json()
    return document


def test_every_v1_and_v2_route_is_documented_with_each_method_its_view_answers(schema):
    views = url_patterns("aurum.urls_tenant")
    served = {
        (openapi_path(route), method)
        # The original's /v1/ paths are the /api/v1/ views again, documented once under /api/v1/.
        for route in {canonical_pattern(route) for route in api_patterns()} - DOCS_ROUTES
        for method in view_methods(views[route]) or {"get"}
    }

    documented = {(path, method) for path, method, _ in operations(schema)}

    assert served - documented == set(), "served but not documented"
    assert documented - served == set(), "documented but not served"
    assert {path.split("/")[2] for path, _ in documented} == {"v1", "v2"}


def test_operation_ids_are_unique_and_not_collision_suffixed(schema):
    ids = [operation["operationId"] for _, _, operation in operations(schema)]

    assert len(ids) == len(set(ids))
    # drf-spectacular resolves a collision by appending _2, _3…: an id that changes when a route is added.
    assert [i for i in ids if re.search(r"_\d+$", i)] == []
    assert schema["paths"]["/api/v1/scenarios"]["get"]["operationId"] == "v1_scenarios_list"
    assert schema["paths"]["/api/v1/scenarios/{scenario_id}"]["get"]["operationId"] == "v1_scenarios_retrieve"
    assert schema["paths"]["/api/v2/scenarios"]["get"]["operationId"] == "scenarios_list"
    assert schema["paths"]["/api/v2/scenarios/{scenario_id}"]["get"]["operationId"] == "scenarios_retrieve"


def test_v1_operations_are_tagged_apart_from_v2_by_resource(schema):
    tags = {
        (path.split("/")[2], tag) for path, _, operation in operations(schema) for tag in operation["tags"]
    }

    assert all(operation["tags"] for _, _, operation in operations(schema))
    assert {tag for version, tag in tags if version == "v1"} == {
        "v1 admin",  # the series-curve mappings (/v1/admin/mappings)
        "v1 curves",
        "v1 drought",
        "v1 external",
        "v1 iso",
        "v1 metadata",
        "v1 ppa",
        "v1 ref",
        "v1 scenarios",
    }
    assert not any(tag.startswith("v1") for version, tag in tags if version == "v2")
    assert "api" not in {tag for _, tag in tags}


def test_every_operation_describes_its_success_answer(schema):
    undescribed = []
    for path, method, operation in operations(schema):
        successes = {code: answer for code, answer in operation["responses"].items() if code.startswith("2")}
        # 204 is the one success without a body; every other success names its media types and their schema.
        with_body = {code: answer for code, answer in successes.items() if code != "204"}
        if not successes or any(
            not answer.get("content") or not all("schema" in media for media in answer["content"].values())
            for answer in with_body.values()
        ):
            undescribed.append(f"{method.upper()} {path}")

    assert undescribed == []


def test_v1_bodies_are_described_in_their_envelope(schema):
    components = schema["components"]["schemas"]
    answer = schema["paths"]["/api/v1/metadata/locations"]["get"]["responses"]["200"]
    body = components[answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    location = components["IsoLocationOut"]

    assert set(body["required"]) == {"meta", "data"}
    assert body["properties"]["data"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/IsoLocationOut"},
    }
    assert set(location["properties"]) == {
        "iso",
        "location_id",
        "location_name",
        "location_type",
        "zone",
        "hub",
        "timezone",
    }
    assert {"request_id", "query_time_ms", "count"} <= set(components["V1CountMeta"]["required"])
    run = schema["paths"]["/api/v1/scenarios/{scenario_id}/run"]["post"]
    assert run["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RunOptionsInput"
    }
    assert set(run["responses"]) == {"202"}


def test_every_v2_post_names_the_idempotency_key_header_and_its_409_and_422(schema):
    """Every v2 POST is covered by the Idempotency-Key layer (tests/platform/test_idempotency_routes.py);
    the document says so on each, once."""
    undocumented = []
    for path, method, operation in operations(schema):
        if method != "post" or not path.startswith("/api/v2/"):
            continue
        headers = [
            p
            for p in operation.get("parameters", [])
            if (p["in"], p["name"]) == ("header", "Idempotency-Key")
        ]
        problems = [operation["responses"].get(code, {}).get("content", {}) for code in ("409", "422")]
        if len(headers) != 1 or not all("application/problem+json" in content for content in problems):
            undocumented.append(path)

    assert undocumented == []
    runs = schema["paths"]["/api/v2/scenarios"]["post"]
    header = next(p for p in runs["parameters"] if p["name"] == "Idempotency-Key")
    assert header["schema"] == {"type": "string", "pattern": "^[A-Za-z0-9_\\-.:/]{1,255}$", "maxLength": 255}
    assert "Idempotent-Replayed: true" in header["description"]
    assert not any(
        p["name"] == "Idempotency-Key"
        for _, m, op in operations(schema)
        if m == "get"
        for p in op.get("parameters", [])
    )
