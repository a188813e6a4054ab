"""The hot fixed lookups of every API request are prepared on the server once run often enough on a connection
(decision 0058): Postgres stops planning them (the token lookup's five-table join was planned on every
request). Nothing is cached but the plan: a revoked token fails at once, and a lookup of a tenant's own
table prepared on one tenant's path reads the next tenant's rows on its path. Django's own queries bind on
the client and are never prepared, and the threshold can be turned off (a pooler that cannot keep them)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from apps.accounts.models import ApiToken
from apps.accounts.services import TokenInvalidError, api_token_authenticate, api_token_revoke
from apps.watchlists.models import Follow
from aurum.orm import CompiledLookup
from aurum.tenancy.db import tenant_connection
from tenants.models import Tenant
from tenants.selectors import tenant_datasets

connection = tenant_connection()
RUNS = 8  # above the default threshold (5 runs on a connection)


@pytest.fixture(autouse=True)
def _public_after() -> Iterator[None]:
    yield
    connection.set_schema_to_public()


def _prepared(table: str) -> list[str]:
    """The statements of this session prepared on the server that read ``table``."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall() if f'"{table}"' in row[0]]


def test_the_token_lookup_is_prepared_once_run_often_and_planned_no_more(world):
    raw = world.acme.members["analyst"].token
    api_token_authenticate(raw=raw)
    assert _prepared("accounts_apitoken") == []  # once is not often

    for _ in range(RUNS):
        assert api_token_authenticate(raw=raw).membership.tenant.schema_name == "acme"

    statements = _prepared("accounts_apitoken")
    assert len(statements) == 1
    assert "accounts_membership" in statements[0] and "tenants_plan" in statements[0]


def test_the_entitlements_are_prepared_and_read_fresh(world):
    globex = Tenant.objects.get(schema_name="globex")
    for _ in range(RUNS):
        before = tenant_datasets(tenant=globex)
    assert len(_prepared("tenants_entitlement")) == 1

    globex.entitlements.all().delete()

    assert tenant_datasets(tenant=globex) < before  # the entitlement's dataset is gone at once


def test_a_prepared_token_lookup_refuses_a_token_revoked_meanwhile(world):
    member = world.globex.members["viewer"]
    for _ in range(RUNS):
        api_token_authenticate(raw=member.token)
    assert len(_prepared("accounts_apitoken")) == 1

    api_token_revoke(token=ApiToken.objects.get(pk=member.token_id))

    with pytest.raises(TokenInvalidError):
        api_token_authenticate(raw=member.token)


def test_a_prepared_lookup_of_a_tenant_table_reads_the_current_tenants_schema(world):
    lookup: CompiledLookup[Follow] = CompiledLookup(
        lambda key: Follow.objects.filter(curve_key=key).order_by("pk")[:1], "\x00follow-key"
    )
    owners = {}
    for name in ("acme", "globex"):
        connection.set_tenant(Tenant.objects.get(schema_name=name))
        follow = Follow.objects.create(
            membership_id=getattr(world, name).members["analyst"].membership_id,
            curve_key="same-key-in-both",
            threshold_pct=5 if name == "acme" else 7,
        )
        owners[name] = follow.threshold_pct

    seen = []
    for name in ("acme", "globex", "acme", "globex"):
        connection.set_tenant(Tenant.objects.get(schema_name=name))
        for _ in range(RUNS):
            found = lookup.first("same-key-in-both")
            assert found is not None
            seen.append((name, found.threshold_pct))

    assert len(_prepared("watchlists_follow")) == 1  # one statement, prepared on acme's path
    assert {(name, owners[name]) for name, _ in seen} == set(seen)


def test_djangos_own_queries_are_not_prepared(world):
    connection.set_tenant(Tenant.objects.get(schema_name="acme"))
    for _ in range(RUNS * 2):
        list(Follow.objects.filter(curve_key="anything").values_list("pk", flat=True))

    assert _prepared("watchlists_follow") == []


def test_with_the_threshold_off_nothing_is_prepared(world, monkeypatch: Any):
    connection.ensure_connection()
    monkeypatch.setattr(connection.connection, "prepare_threshold", None)
    raw = world.acme.members["admin"].token

    for _ in range(RUNS):
        api_token_authenticate(raw=raw)

    assert _prepared("accounts_apitoken") == []
