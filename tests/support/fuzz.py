"""Schemathesis against Aurum in-process (the WSGI app in the test's transaction) and what answers must be.

The app runs in the test's thread, so it shares the test's database connection: everything the generated
requests write is rolled back with the test, and tasks queued on commit are never sent.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.support.contract import contract_spec

# `make drills` sets AURUM_DRILL=1: the same tests, with enough generated requests per operation that the
# stateless ones send at least DRILL_MINIMUM_REQUESTS; the suite keeps them cheap. AURUM_FUZZ_EXAMPLES
# overrides the examples per operation.
DRILL = os.environ.get("AURUM_DRILL") == "1"
DRILL_MINIMUM_REQUESTS = 5_000
EXAMPLES = int(os.environ.get("AURUM_FUZZ_EXAMPLES", "25" if DRILL else "4"))
STATEFUL_EXAMPLES = int(os.environ.get("AURUM_FUZZ_STATEFUL_EXAMPLES", "50" if DRILL else "12"))

# Where Aurum serves what the original served at its root (the original's own paths come with issue 13).
_ORIGINAL_TO_AURUM = {"/health": "/health/live", "/ready": "/health/ready"}


def _pointer(path: str, method: str) -> str:
    return "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method


def _link(path: str, method: str, **parameters: str) -> dict[str, Any]:
    return {"operationRef": _pointer(path, method), "parameters": parameters}


def v1_contract_as_served() -> dict[str, Any]:
    """The original v1 contract at the paths Aurum serves it (``/api/v1/…``), with links between resources.

    The original document declares no links; these are the ones its resources imply (a created scenario is
    read, run and deleted; a run is read and cancelled; a contract is read, changed, valued and deleted), so
    the stateful phase follows created objects instead of guessing identifiers.
    """
    spec = copy.deepcopy(contract_spec())
    _examples_as_lists(spec)
    spec["paths"] = {
        _ORIGINAL_TO_AURUM.get(path, "/api" + path): operations for path, operations in spec["paths"].items()
    }
    paths = spec["paths"]
    scenario = "/api/v1/scenarios/{scenario_id}"
    contract = "/api/v1/ppa/contracts/{contract_id}"
    scenario_id = {"scenario_id": "$response.body#/data/id"}
    run_id = {"run_id": "$response.body#/data/id"}
    contract_id = {"contract_id": "$response.body#/data/ppa_contract_id"}
    created: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {
        ("/api/v1/scenarios", "post", "201"): {
            "GetScenario": _link(scenario, "get", **scenario_id),
            "RunScenario": _link(scenario + "/run", "post", **scenario_id),
            "ListRuns": _link(scenario + "/runs", "get", **scenario_id),
            "Outputs": _link(scenario + "/outputs", "get", **scenario_id),
            "DeleteScenario": _link(scenario, "delete", **scenario_id),
        },
        (scenario + "/run", "post", "202"): {
            "GetRun": _link(
                scenario + "/runs/{run_id}", "get", scenario_id="$response.body#/data/scenario_id", **run_id
            ),
            "SetState": _link("/api/v1/scenarios/runs/{run_id}/state", "post", **run_id),
            "CancelRun": _link("/api/v1/scenarios/runs/{run_id}/cancel", "post", **run_id),
        },
        ("/api/v1/ppa/contracts", "post", "201"): {
            "GetContract": _link(contract, "get", **contract_id),
            "UpdateContract": _link(contract, "patch", **contract_id),
            "Valuations": _link(contract + "/valuations", "get", **contract_id),
            "DeleteContract": _link(contract, "delete", **contract_id),
        },
    }
    for (path, method, status), links in created.items():
        paths[path][method]["responses"][status]["links"] = links
    return spec


def _examples_as_lists(node: Any) -> None:
    """The original gives some schema ``examples`` as a map of named examples; JSON Schema wants a list."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "examples" and isinstance(value, dict) and "properties" not in value:
                node[key] = [v.get("value") if isinstance(v, dict) else v for v in value.values()]
            else:
                _examples_as_lists(value)
    elif isinstance(node, list):
        for item in node:
            _examples_as_lists(item)


def v1_contract_for_sequences() -> dict[str, Any]:
    """The served contract for the stateful phase: no foreign keys nobody creates; creatable scenarios.

    Schemathesis starts sequences only at operations whose inputs it can produce; ``tenant_id`` (always
    the caller's own tenant, a different one is refused) and a PPA contract's optional ``instrument_id``
    would keep the creates from ever starting one. The stateless tests keep both fields.
    """
    spec = v1_contract_as_served()
    schemas = spec["components"]["schemas"]
    schemas["CreateScenarioRequest"]["properties"].pop("tenant_id")
    schemas["CreateScenarioRequest"]["required"].remove("tenant_id")
    schemas["PpaContractCreate"]["properties"].pop("instrument_id")
    # Sequences start from scenarios that can be created: a name, no assumptions (arbitrary assumption objects
    # are refused, and that refusal is the stateless tests' subject), tags within their length.
    create = schemas["CreateScenarioRequest"]["properties"]
    create["name"].update(minLength=1, maxLength=200, pattern="^[A-Za-z0-9 ]+$")
    create["assumptions"]["maxItems"] = 0
    create["tags"].update(maxItems=3, items={"type": "string", "maxLength": 40})
    return spec


@contextmanager
def in_process_app() -> Iterator[Any]:
    """Django's WSGI handler, minus the per-request connection closing that ends the test's transaction."""
    from django.core import signals
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def assert_answer_is_sound(response: Any, case: Any) -> None:
    """No server error; every error a problem body (RFC 7807) whose status is the response's."""
    where = f"{case.method} {case.formatted_path} query={case.query!r} body={str(case.body)[:200]!r}"
    if case.operation.path == "/health/ready" and response.status_code == 503:
        # Readiness says 503 when a dependency is down (here: no Celery worker); that is its contract.
        assert json.loads(response.content)["status"] == "unavailable"
        return
    assert response.status_code < 500, f"{response.status_code} for {where}: {response.text[:500]}"
    if response.status_code >= 400:
        media_type = response.headers.get("content-type", [""])[0]
        assert media_type.startswith("application/problem+json"), f"{media_type!r} for {where}"
        problem = json.loads(response.content)
        assert problem["status"] == response.status_code, (problem, where)
        assert problem["title"] and problem["type"] and problem["detail"], (problem, where)
