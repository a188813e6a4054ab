"""Idempotency-Key over the route table (decision 0027): every v2 POST is covered by the layer unless it is
listed here with the reason, and every covered route replays its first answer to a retry with the same key."""

from __future__ import annotations

from typing import Any

from aurum.api.idempotency import idempotency_mode
from tests.support.routes import ROUTES, TENANT_URLCONF, url_patterns, view_methods

# Routes whose service keeps the key with what it creates: the layer holds the key while the request runs
# (a concurrent duplicate is a 409) and stores nothing; the service answers a retry (200, the object,
# Idempotent-Replayed: true; other parameters 422) — tenant-wide and without expiry, as before the layer.
SERVICE_KEYED = {
    "api/v2/scenarios/<str:scenario_id>/runs": "the run keeps its key and fingerprint (decision 0010)",
    "api/v2/ppa/contracts/<str:contract_id>/valuations": "the valuation keeps its key (decision 0011)",
}
# v2 POSTs the layer does not cover, each with its reason. None today: a new route is covered by default.
OPTED_OUT: dict[str, str] = {}


def _view_class(view: Any) -> type:
    cls: type = getattr(view, "view_class", None) or view.cls
    return cls


def _post_routes(prefix: str) -> dict[str, type]:
    return {
        route: _view_class(view)
        for route, view in url_patterns(TENANT_URLCONF).items()
        if route.startswith(prefix) and "post" in (view_methods(view) or set())
    }


def test_every_v2_post_is_covered_unless_listed_with_its_reason():
    modes = {
        route: idempotency_mode(cls, path=f"/{route}", method="POST")
        for route, cls in _post_routes("api/v2/").items()
    }

    assert {route for route, mode in modes.items() if mode == "service"} == set(SERVICE_KEYED)
    assert {route for route, mode in modes.items() if mode == "off"} == set(OPTED_OUT)
    assert all(reason for reason in (*SERVICE_KEYED.values(), *OPTED_OUT.values()))
    assert {
        "api/v2/tokens",
        "api/v2/ingest/runs",
        "api/v2/scenarios",
        "api/v2/scenario-runs/<str:run_id>/cancel",
        "api/v2/ppa/contracts",
        "api/v2/watchlist",
        "api/v2/notices/read",
    } <= {route for route, mode in modes.items() if mode == "store"}


def test_v1_posts_keep_their_own_contract():
    modes = {
        idempotency_mode(cls, path=f"/{route}", method="POST")
        for route, cls in _post_routes("api/v1/").items()
    }

    assert modes == {"off"}


def test_every_covered_route_replays_its_first_answer(world, api):
    covered = [
        route
        for route in ROUTES
        if route.method == "post"
        and route.pattern.startswith("api/v2/")
        and route.pattern not in SERVICE_KEYED
    ]
    answers = {}
    for number, route in enumerate(covered):
        key = f"route-table-{number}"
        call = {"format": "json", "HTTP_IDEMPOTENCY_KEY": key, **world.acme.auth("admin")}
        first = api.post(route.path(world), route.body, **call)
        again = api.post(route.path(world), route.body, **call)
        answers[route.pattern] = (
            first.status_code == again.status_code,
            again.content == first.content,
            again.get("Idempotent-Replayed"),
        )

    assert {pattern for pattern in SERVICE_KEYED} <= {r.pattern for r in ROUTES}
    assert answers == {route.pattern: (True, True, "true") for route in covered}
