"""Fixtures of the scenario tests; their helpers live in tests.support.scenarios."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django_tenants.utils import schema_context

from apps.scenarios.services.scenarios import scenario_delete
from tenants.models import Tenant
from tests.support.scenarios import BASE_DAY, EUGP_0912, CurveSlice, fixed_price_curves
from tests.support.slices import ingest_slice


@pytest.fixture(scope="session")
def eugp_curves(django_db_setup: None, django_db_blocker: Any) -> CurveSlice:
    with django_db_blocker.unblock():
        ingest_slice(EUGP_0912, BASE_DAY)
    return fixed_price_curves(BASE_DAY)


@pytest.fixture
def acme(world: Any) -> Any:
    return Tenant.objects.select_related("plan").get(schema_name="acme")


@contextmanager
def in_schema(schema: str) -> Iterator[None]:
    with schema_context(schema):
        yield


@pytest.fixture
def in_acme(acme: Any) -> Iterator[Any]:
    with schema_context("acme"):
        yield acme


@pytest.fixture
def acme_live(committed_world: Any, eugp_curves: Any) -> Iterator[tuple[Any, list[Any]]]:
    """acme in its schema WITHOUT the test transaction (a real worker must see the rows): the test appends
    the scenarios it creates, deleted (runs cascade) at the end; the plan's concurrency is restored."""
    tenant = Tenant.objects.select_related("plan").get(schema_name="acme")
    cap = tenant.plan.concurrent_scenario_runs
    created: list[Any] = []
    with schema_context("acme"):
        yield tenant, created
    with schema_context("acme"):  # again: a request made by the test leaves the connection in public
        for scenario in created:
            scenario_delete(scenario=scenario, tenant=tenant)
    tenant.plan.concurrent_scenario_runs = cap
    tenant.plan.save(update_fields=["concurrent_scenario_runs"])
