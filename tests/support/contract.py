"""The original Aurum's v1 contract (openapi-spec-v1.yaml): responses are checked against its schemas."""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from tests.support.paths import ORIGINAL

SPEC_PATH = ORIGINAL / "openapi-spec-v1.yaml"


@cache
def contract_spec() -> dict[str, Any]:
    return dict(yaml.safe_load(SPEC_PATH.read_text()))


def assert_contract(path_template: str, response: Any, *, method: str = "get", status: int = 200) -> None:
    """The response has ``status`` and its body matches the schema the contract gives for it."""
    assert response.status_code == status, response.content[:500]
    spec = contract_spec()
    content = spec["paths"][path_template][method]["responses"][str(status)]["content"]["application/json"]
    validator = Draft202012Validator({**content["schema"], "components": spec["components"]})
    errors = sorted(validator.iter_errors(response.json()), key=str)
    assert not errors, [e.message for e in errors[:5]]
