"""No request is a server error, and every error is a problem body.

Schemathesis generates requests from the original v1 contract (at the paths Aurum serves it, with the links
its resources imply, followed by a stateful phase) and from Aurum's own schema, served at ``/api/v2/schema/``.
The requests go to the real app, on the real database, as an acme admin (every permission, so the generated
bodies reach the services and the lakehouse rather than stopping at a 403).

``AURUM_FUZZ_EXAMPLES`` sets the examples per operation (default small, to keep the suite quick);
`make drills` (``AURUM_DRILL=1``) runs the same tests with enough of them to send at least 5,000 requests.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode

from tests.support.fuzz import (
    DRILL,
    DRILL_MINIMUM_REQUESTS,
    EXAMPLES,
    STATEFUL_EXAMPLES,
    assert_answer_is_sound,
    in_process_app,
    v1_contract_as_served,
    v1_contract_for_sequences,
)
from tests.support.world import World

ACME = "http://acme.localhost"
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def app(world: World) -> Any:
    with in_process_app() as handler:
        yield handler


def served_v2_schema(world: World, api: Any) -> Any:
    response = api.get(
        "/api/v2/schema/",
        HTTP_HOST="acme.localhost",
        HTTP_ACCEPT="application/vnd.oai.openapi+json",
        **world.acme.auth("admin"),
    )
    assert response.status_code == 200, response.content[:300]
    return schemathesis.openapi.from_dict(json.loads(response.content))


def _headers(world: World) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.acme.members['admin'].token}"}


# The drill also sends schemathesis' invalid requests (slow to generate); the suite only valid ones.
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if DRILL else (GenerationMode.POSITIVE,)


def _fuzz_every_operation(schema: Any, app: Any, headers: dict[str, str]) -> tuple[int, int, list[str]]:
    """Generated requests for each operation in turn, valid ones then (in the drill) invalid ones
    (schemathesis' negative mode: wrong types, missing fields, out-of-range values): (operations, requests
    sent, failures).

    A loop of our own rather than schemathesis' pytest plugin, which neither loads lazily on pytest 9 nor
    runs its cases under pytest-xdist (it collapses them into one item that sends nothing).
    """
    operations = [result.ok() for result in schema.get_all_operations()]
    sent: list[int] = []
    failures: list[str] = []
    for operation in operations:
        for mode in MODES:

            @given(case=operation.as_strategy(generation_mode=mode))
            @FUZZ_SETTINGS
            def fuzz(case: Any) -> None:
                sent.append(1)
                assert_answer_is_sound(case.call(app=app, base_url=ACME, headers=headers), case)

            try:
                fuzz()
            except AssertionError as failure:
                failures.append(f"{operation.label} ({mode}): {str(failure)[:600]}")
            except Unsatisfiable:
                # An operation without parameters or body has no invalid form.
                if mode is GenerationMode.POSITIVE:
                    raise
    return len(operations), len(sent), failures


@pytest.mark.drill
def test_generated_requests_never_fail_the_server(world: World, api: Any, capsys: Any) -> None:
    """Every operation of the v1 contract as served, then every /api/v2 operation of the schema as served.

    In the suite a few requests per operation; in `make drills` (AURUM_DRILL=1) at least 5,000 in all.
    """
    v2 = served_v2_schema(world, api).include(path_regex="^/api/v2/")
    v1 = schemathesis.openapi.from_dict(v1_contract_as_served())
    started = time.monotonic()
    # After the schema request: Django's test client reconnects the connection closing the app must not do.
    with in_process_app() as app:
        v1_operations, v1_sent, v1_failures = _fuzz_every_operation(v1, app, _headers(world))
        v2_operations, v2_sent, v2_failures = _fuzz_every_operation(v2, app, _headers(world))
    with capsys.disabled():  # the figures docs/operations.md records
        print(
            f"\nfuzzed {v1_sent} v1 requests over {v1_operations} operations and {v2_sent} v2 requests over "
            f"{v2_operations} operations ({EXAMPLES} examples per operation and mode, {'/'.join(MODES)}) in "
            f"{time.monotonic() - started:.0f} s"
        )

    assert not v1_failures + v2_failures, "\n".join(v1_failures + v2_failures)
    assert v1_operations == 55 and v1_sent >= 2 * v1_operations, (v1_operations, v1_sent)
    assert v2_operations > 30 and v2_sent >= 2 * v2_operations, (v2_operations, v2_sent)
    if DRILL:
        assert v1_sent + v2_sent >= DRILL_MINIMUM_REQUESTS, (v1_sent, v2_sent)


@pytest.mark.drill
def test_v1_stateful_sequences_never_fail_the_server(world: World, app: Any) -> None:
    """Scenarios and PPA contracts created, then read, run, valued and deleted through the links."""
    headers = _headers(world)
    followed: list[str] = []

    lifecycle = schemathesis.openapi.from_dict(v1_contract_for_sequences()).include(
        path_regex="^/api/v1/(scenarios|ppa)"
    )

    class Sequences(lifecycle.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            # Each sequence starts from the same database: what the previous one created is rolled back.
            self.savepoint = transaction.savepoint()

        def teardown(self) -> None:
            transaction.savepoint_rollback(self.savepoint)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"app": app, "base_url": ACME, "headers": headers}

        def after_call(self, response: Any, case: Any) -> None:
            followed.append(f"{case.method} {case.operation.path} {response.status_code}")

        def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
            assert_answer_is_sound(response, case)

    Sequences.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=8,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )
    # The stateful phase did follow links from created objects, not only the entry points.
    print("\n".join(sorted(set(followed))))
    assert any(
        step.startswith(
            ("GET /api/v1/scenarios/{scenario_id} 2", "POST /api/v1/scenarios/{scenario_id}/run 2")
        )
        for step in followed
    ), followed[:40]
