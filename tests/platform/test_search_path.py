"""``SET search_path`` only when the connection's session does not already have the path a query needs
(aurum/tenancy/postgresql_backend, decision 0057): a tenant's next request on the same connection sets
nothing, another tenant's request sets its own path and sees only its own rows, and a path the session may
have lost (a rollback, a statement that sets it behind the wrapper) is set again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext

from apps.watchlists.models import Follow
from aurum.orm import CompiledLookup
from aurum.tenancy.db import tenant_connection
from tenants.models import Tenant

connection = tenant_connection()


@pytest.fixture(autouse=True)
def _public_after() -> Iterator[None]:
    """These tests move the connection between tenants; the next test starts on the public schema."""
    yield
    connection.set_schema_to_public()


def _sets(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].upper().startswith("SET SEARCH_PATH")]


@pytest.fixture
def follows(world: Any) -> dict[str, str]:
    """One followed curve in each tenant's own schema."""
    keys = {}
    for name in ("acme", "globex"):
        connection.set_tenant(Tenant.objects.get(schema_name=name))
        membership = getattr(world, name).members["analyst"].membership_id
        keys[name] = Follow.objects.create(
            membership_id=membership, curve_key=f"{name}-curve-0001", threshold_pct=5
        ).curve_key
    connection.set_schema_to_public()
    return keys


def _watched(api: Any, world: Any, tenant: str) -> tuple[list[str], list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/v2/watchlist", **getattr(world, tenant).auth("analyst"))
    assert response.status_code == 200, response.content
    return [item["curve_key"] for item in response.json()["data"]], _sets(queries)


def test_a_tenants_next_request_on_the_connection_sets_no_search_path(world, api, follows):
    _watched(api, world, "acme")  # each token's first request of the minute also stamps its last use
    _watched(api, world, "globex")
    first_keys, first_sets = _watched(api, world, "acme")
    again_keys, again_sets = _watched(api, world, "acme")

    assert first_keys == again_keys == [follows["acme"]]
    assert first_sets == ['SET search_path = "acme","public"']  # the token lookup read on globex's path
    assert again_sets == []  # the token lookup reads public tables on the acme path; acme's path is set


def test_alternating_tenants_each_set_their_own_path_once_and_see_only_their_rows(world, api, follows):
    _watched(api, world, "globex")  # each token's first request of the minute also stamps its last use
    _watched(api, world, "acme")

    seen = [_watched(api, world, tenant) for tenant in ("globex", "acme", "globex", "acme")]

    assert [keys for keys, _ in seen] == [[follows[t]] for t in ("globex", "acme", "globex", "acme")]
    assert [sets for _, sets in seen] == [
        ['SET search_path = "globex","public"'],
        ['SET search_path = "acme","public"'],
        ['SET search_path = "globex","public"'],
        ['SET search_path = "acme","public"'],
    ]


def test_a_path_set_behind_the_wrapper_is_set_again(world, follows):
    connection.set_tenant(Tenant.objects.get(schema_name="acme"))
    assert list(Follow.objects.values_list("curve_key", flat=True)) == [follows["acme"]]
    with connection.cursor() as cursor:
        cursor.execute('SET search_path = "globex", "public"')

    with CaptureQueriesContext(connection) as queries:
        keys = list(Follow.objects.values_list("curve_key", flat=True))

    assert keys == [follows["acme"]]
    assert _sets(queries) == ['SET search_path = "acme","public"']


def test_a_path_undone_by_a_rollback_is_set_again(world, follows):
    connection.set_tenant(Tenant.objects.get(schema_name="acme"))
    Follow.objects.count()
    saved = transaction.savepoint()
    connection.set_tenant(Tenant.objects.get(schema_name="globex"))
    assert list(Follow.objects.values_list("curve_key", flat=True)) == [follows["globex"]]
    transaction.savepoint_rollback(saved)  # the session's path is acme's again, not globex's

    with CaptureQueriesContext(connection) as queries:
        keys = list(Follow.objects.values_list("curve_key", flat=True))

    assert keys == [follows["globex"]]
    assert _sets(queries) == ['SET search_path = "globex","public"']


def test_a_shared_tables_lookup_refuses_a_table_tenant_schemas_have():
    lookup = CompiledLookup(lambda pk: Follow.objects.filter(pk=pk)[:1], -987654, shared_tables_only=True)

    with pytest.raises(ValueError, match="watchlists_follow is not a table of a shared-only app"):
        lookup.first(1)


def test_no_tenant_schema_has_a_table_of_a_shared_only_app(world):
    shared_only = {
        model._meta.db_table
        for model in apps.get_models()
        if model._meta.app_config.name in settings.SHARED_APPS
        and model._meta.app_config.name not in settings.TENANT_APPS
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema <> 'public' "
            "AND table_name = ANY(%s)",
            [sorted(shared_only)],
        )
        found = cursor.fetchall()

    assert "accounts_apitoken" in shared_only and "tenants_plan" in shared_only
    assert found == []


def _health_checks(monkeypatch: Any) -> list[bool]:
    """The connection's health checks (``SELECT 1`` before a request's first query), as they answer."""
    done: list[bool] = []
    wrapper = connections["default"]  # this thread's connection itself, not the proxy
    check = wrapper.is_usable

    def spy() -> bool:
        done.append(check())
        return done[-1]

    monkeypatch.setattr(wrapper, "is_usable", spy)
    monkeypatch.setattr(wrapper, "health_check_enabled", True)
    return done


def test_a_connection_that_answered_moments_ago_is_not_health_checked_again(world, monkeypatch):
    checks = _health_checks(monkeypatch)
    Tenant.objects.count()
    connection.health_check_done = False  # what the next request's start does (request_started)

    assert Tenant.objects.count() == 2 + Tenant.objects.filter(is_operator=True).count()
    assert checks == []


def test_a_connection_idle_past_the_window_is_health_checked(world, monkeypatch):
    from aurum.tenancy.postgresql_backend import base

    checks = _health_checks(monkeypatch)
    Tenant.objects.count()
    connection.health_check_done = False
    now = base.clock()
    monkeypatch.setattr(base, "clock", lambda: now + settings.AURUM_DB_HEALTH_CHECK_IDLE_SECONDS + 0.5)

    Tenant.objects.count()

    assert checks == [True]
