"""The bad-request corpus (tests/resilience/corpus/requests.py) and bad cursors: each is a 4xx problem with
a detail that says what is wrong, and nothing is written: every table of the tenant's schema and the
platform's ingest runs hold as many rows after as before."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client
from django_tenants.utils import schema_context

from apps.ingestion.models import IngestRun
from tests.resilience.corpus.requests import (
    BODY_LIMIT,
    HEADERS,
    JSON_BODIES,
    PATHS,
    PROBLEMS,
    QUERIES,
    SCENARIOS,
    BadRequest,
)
from tests.support.world import World

CASES = {**JSON_BODIES, **QUERIES, **PATHS, **HEADERS}


def _tenant_rows(schema: str) -> dict[str, int]:
    """Rows of every model stored in the tenant's schema, and the platform's ingest runs."""
    tenant_apps = {name.rsplit(".", 1)[-1] for name in settings.TENANT_APPS}
    counts = {"ingest runs": IngestRun.objects.count()}
    with schema_context(schema):
        for model in apps.get_models():
            if model._meta.app_config.name.rsplit(".", 1)[-1] in tenant_apps and model._meta.managed:
                counts[model._meta.label] = model._default_manager.count()
    return counts


def _send(world: World, case: BadRequest) -> Any:
    extra: dict[str, Any] = {**world.acme.auth("admin"), **case.headers}
    return Client().generic(
        case.method, case.path, case.body, content_type=case.content_type, HTTP_HOST="acme.localhost", **extra
    )


def _assert_problem(response: Any, status: int, slug: str, detail: str) -> None:
    assert response.status_code == status, response.content[:400]
    assert response["Content-Type"] == "application/problem+json"
    problem = json.loads(response.content)
    assert (problem["type"], problem["status"]) == (PROBLEMS + slug, status), problem
    assert problem["title"] and problem["detail"]
    # The detail, or the field errors it points to ("see errors"), say what is wrong.
    said = " ".join([problem["detail"], *(error["message"] for error in problem.get("errors", []))])
    assert detail in said, problem


@pytest.mark.parametrize("name", CASES)
def test_a_bad_request_is_a_4xx_problem_and_writes_nothing(world, settings, name):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = BODY_LIMIT
    case = CASES[name]
    before = _tenant_rows("acme")

    response = _send(world, case)

    _assert_problem(response, case.status, case.slug, case.detail)
    assert _tenant_rows("acme") == before


# --- cursors -------------------------------------------------------------------------------------------


def _next_cursor(world: World, tenant: str, path: str) -> str:
    client = Client()
    for n in range(3):
        client.post(
            SCENARIOS,
            json.dumps({"name": f"cursor {tenant} {n}"}),
            content_type="application/json",
            HTTP_HOST=f"{tenant}.localhost",
            **getattr(world, tenant).auth("admin"),
        )
    page = client.get(
        path, {"limit": 1}, HTTP_HOST=f"{tenant}.localhost", **getattr(world, tenant).auth("admin")
    )
    assert page.status_code == 200, page.content[:300]
    return str(page.json()["meta"]["next_cursor"])


def _tampered(token: str) -> str:
    payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    payload["offset"] = 0  # the signature stays the old one
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


CURSORS: dict[str, tuple[Callable[[World], str], str]] = {
    "tampered": (lambda w: _tampered(_next_cursor(w, "acme", SCENARIOS)), "Invalid cursor"),
    "not base64": (lambda w: "!!!not-a-cursor!!!", "Invalid cursor"),
    "base64 of garbage": (lambda w: base64.urlsafe_b64encode(b"\x00\xff garbage").decode(), "Invalid cursor"),
    "5,000 characters": (lambda w: "A" * 5_000, "Invalid cursor"),
    "another tenant's": (lambda w: _next_cursor(w, "globex", SCENARIOS), "Cursor filters do not match"),
    "another list's": (lambda w: _next_cursor(w, "acme", "/api/v2/tokens"), "Cursor filters do not match"),
}


@pytest.mark.parametrize("name", CURSORS)
def test_a_bad_cursor_is_a_400_problem(world, name):
    make, detail = CURSORS[name]
    cursor = make(world)
    before = _tenant_rows("acme")

    response = Client().get(
        SCENARIOS, {"cursor": cursor}, HTTP_HOST="acme.localhost", **world.acme.auth("admin")
    )

    _assert_problem(response, 400, "invalid-cursor", detail)
    assert _tenant_rows("acme") == before


def test_the_same_cursor_untampered_pages_its_own_list(world):
    """The control for the cases above: a server-issued cursor, as issued, is accepted."""
    cursor = _next_cursor(world, "acme", SCENARIOS)

    response = Client().get(
        SCENARIOS, {"cursor": cursor}, HTTP_HOST="acme.localhost", **world.acme.auth("admin")
    )

    assert response.status_code == 200, response.content[:300]
    assert response.json()["meta"]["returned_count"] == 1
