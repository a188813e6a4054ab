from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django_tenants.utils import schema_context

from tests.support.scenarios import BASE_DAY, EUGP_0912, CurveSlice, fixed_price_curves
from tests.support.slices import ingest_slice


@pytest.fixture(scope="session")
def eugp_curves(django_db_setup: None, django_db_blocker: Any) -> CurveSlice:
    with django_db_blocker.unblock():
        ingest_slice(EUGP_0912, BASE_DAY)
    return fixed_price_curves(BASE_DAY)


@pytest.fixture
def in_acme(world: Any) -> Iterator[None]:
    with schema_context("acme"):
        yield


@pytest.fixture
def endpoint_create(world: Any, api: Any) -> Callable[..., dict[str, Any]]:
    """Create an endpoint of acme's through the API (as its admin); the answer's data, with the secret."""

    def create(url: str, events: list[str] | None = None, **extra: Any) -> dict[str, Any]:
        body = {"url": url, "events": events or ["scenario.run.succeeded"], **extra}
        answer = api.post("/api/v2/webhooks", body, format="json", **world.acme.auth("admin"))
        assert answer.status_code == 201, answer.content
        return dict(answer.json()["data"])

    return create
