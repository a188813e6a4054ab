"""Idempotency-Key, two requests at once (decision 0027): while the first request with a key runs, a duplicate
is a 409 problem with Retry-After and runs nothing; once the first answered, the duplicate replays it. Real
threads on committed rows (each thread its own database connection); the view waits at a gate the test opens.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from aurum.idempotency.models import IdempotentRequest
from tests.support.idempotency import GATE, GATED_PATH, SERVICE_GATED_PATH
from tests.support.world import World

IN_FLIGHT = "https://aurum.dev/problems/idempotency-request-in-flight"


def _post(world: World, path: str, key: str) -> Any:
    client: Any = APIClient()
    return client.post(path, {"n": 1}, format="json", HTTP_IDEMPOTENCY_KEY=key, **world.acme.auth("viewer"))


def _first_in_a_thread(world: World, path: str, key: str) -> tuple[threading.Thread, dict[str, Any]]:
    answer: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: answer.update(response=_post(world, path, key)))
    thread.start()
    assert GATE.entered.wait(timeout=30), "the first request never reached the view"
    return thread, answer


@pytest.fixture
def keys(committed_world: World) -> Any:
    made: list[str] = []
    GATE.reset()
    yield made
    GATE.opened.set()  # never leave a thread waiting
    with schema_context("acme"):
        IdempotentRequest.objects.filter(key__in=made).delete()


@pytest.mark.urls("tests.support.idempotency")
def test_a_duplicate_while_the_first_runs_is_a_409_then_a_replay(committed_world, keys):
    keys.append("concurrent-1")
    thread, first = _first_in_a_thread(committed_world, GATED_PATH, "concurrent-1")

    duplicate = _post(committed_world, GATED_PATH, "concurrent-1")
    GATE.opened.set()
    thread.join(timeout=30)
    replay = _post(committed_world, GATED_PATH, "concurrent-1")

    assert duplicate.status_code == 409
    assert duplicate["Content-Type"] == "application/problem+json"
    assert duplicate["Retry-After"] == "1"
    assert (duplicate.json()["type"], duplicate.json()["idempotency_key"]) == (IN_FLIGHT, "concurrent-1")
    assert first["response"].status_code == 201 and first["response"].json() == {"call": 1, "echo": {"n": 1}}
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.content == first["response"].content
    assert GATE.calls == 1  # the duplicate and the replay ran nothing


@pytest.mark.urls("tests.support.idempotency")
def test_on_a_route_whose_service_keeps_the_key_the_layer_holds_it_only_while_the_first_runs(
    committed_world, keys
):
    keys.append("concurrent-2")
    thread, first = _first_in_a_thread(committed_world, SERVICE_GATED_PATH, "concurrent-2")

    duplicate = _post(committed_world, SERVICE_GATED_PATH, "concurrent-2")
    GATE.opened.set()
    thread.join(timeout=30)
    after = _post(committed_world, SERVICE_GATED_PATH, "concurrent-2")

    assert duplicate.status_code == 409 and duplicate.json()["type"] == IN_FLIGHT
    assert first["response"].status_code == 201
    # Nothing stored: the service answers the retry (here the gated view, which runs again).
    assert after.status_code == 201 and "Idempotent-Replayed" not in after
    assert GATE.calls == 2
    with schema_context("acme"):
        assert not IdempotentRequest.objects.filter(key="concurrent-2").exists()
