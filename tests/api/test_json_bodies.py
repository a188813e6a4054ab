"""A JSON body PostgreSQL could not store (a NUL character, in a key or a value, however deep) is a 400
problem before any service sees it, never a 500 at the database (found by the stateful fuzzing)."""

import json

import pytest
from django_tenants.utils import schema_context

from apps.scenarios.models import Scenario

BODIES = {
    "key": {"name": "nul key", "parameters": {"a\u0000b": 1}},
    "nested value": {"name": "nul value", "parameters": {"x": [{"y": "z\u0000"}]}},
}


@pytest.mark.parametrize("path", ["/api/v1/scenarios", "/api/v2/scenarios"])
@pytest.mark.parametrize("where", BODIES)
def test_a_nul_character_anywhere_in_a_json_body_is_a_400_problem(world, api, path, where):
    with schema_context("acme"):
        before = Scenario.objects.count()

    response = api.post(
        path, data=json.dumps(BODIES[where]), content_type="application/json", **world.acme.auth("admin")
    )

    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    assert "NUL" in response.json()["detail"]
    with schema_context("acme"):
        assert Scenario.objects.count() == before
