"""Hot-path lookups compiled once (aurum/orm.py): the queryset's instances, read fresh on every call."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import ApiToken
from apps.accounts.services import TOKEN_BY_PREFIX, api_token_authenticate
from aurum.orm import CompiledLookup
from aurum.tenancy.db import tenant_connection
from tenants.models import Tenant
from tenants.selectors import tenant_datasets, tenant_for_host
from tenants.services import entitlement_grant

# The lookup every API request's authentication runs (apps/accounts/services.py).
BY_PREFIX = TOKEN_BY_PREFIX


def _fields(instance: Any) -> dict[str, Any]:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_a_compiled_lookup_builds_what_the_queryset_builds_in_one_query(world):
    token = ApiToken.objects.get(pk=world.acme.members["trader"].token_id)
    expected = (
        ApiToken.objects.select_related("membership__user", "membership__tenant__plan")
        .filter(prefix=token.prefix)
        .get()
    )

    with CaptureQueriesContext(connection) as queries:
        found = BY_PREFIX.first(token.prefix)
        assert found is not None
        related = (
            found.membership.user.email,
            found.membership.tenant.schema_name,
            found.membership.tenant.plan.code,
        )

    assert len(queries.captured_queries) == 1
    assert _fields(found) == _fields(expected)
    assert _fields(found.membership) == _fields(expected.membership)
    assert _fields(found.membership.user) == _fields(expected.membership.user)
    assert _fields(found.membership.tenant) == _fields(expected.membership.tenant)
    assert _fields(found.membership.tenant.plan) == _fields(expected.membership.tenant.plan)
    assert related == ("trader@acme.example", "acme", expected.membership.tenant.plan.code)
    assert found._state.adding is False and found._state.db == "default"


def test_every_call_reads_the_row_again(world):
    token = ApiToken.objects.get(pk=world.acme.members["analyst"].token_id)
    assert BY_PREFIX.first(token.prefix).revoked_at is None  # type: ignore[union-attr]

    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())

    assert BY_PREFIX.first(token.prefix).revoked_at is not None  # type: ignore[union-attr]
    assert BY_PREFIX.first("nosuchprefix") is None


def test_each_thread_compiles_on_its_own_connection(world):
    prefix = ApiToken.objects.get(pk=world.acme.members["admin"].token_id).prefix
    found: list[Any] = []

    def look() -> None:
        try:
            found.append((BY_PREFIX.first(prefix), id(connections["default"])))
        finally:
            connection.close()

    worker = threading.Thread(target=look)
    worker.start()
    worker.join()

    assert found[0][0].prefix == prefix
    assert found[0][1] != id(connections["default"])  # its own connection, so its own compiled SQL
    assert BY_PREFIX.first(prefix).prefix == prefix  # type: ignore[union-attr]


def test_a_marker_must_appear_exactly_once():
    twice = CompiledLookup(lambda name: Tenant.objects.filter(name=name, schema_name=name)[:1], "\x00m")
    absent = CompiledLookup(lambda name: Tenant.objects.filter(name="acme")[:1], "\x00m")

    with pytest.raises(ValueError, match="appears 2 times"):
        twice.first("acme")
    with pytest.raises(ValueError, match="appears 0 times"):
        absent.first("acme")
    with pytest.raises(TypeError, match="expected 1 values"):
        BY_PREFIX.all("a", "b")


def test_a_tenant_host_is_looked_up_in_one_prepared_query_and_read_fresh_each_time(world):
    """Every request on a tenant's host resolves its domain (tenants/selectors.py): the tenant and its plan in
    one query, on a tenant's search path too, and a change (a suspension) seen by the next request."""
    acme = Tenant.objects.select_related("plan").get(schema_name="acme")
    hostname = acme.domains.get().domain
    tenants = tenant_connection()
    tenants.set_tenant(acme)
    try:
        with CaptureQueriesContext(tenants) as queries:
            found = tenant_for_host(hostname=hostname)
            assert found is not None
            plan_code = found.plan.code
    finally:
        tenants.set_schema_to_public()

    assert len(queries.captured_queries) == 1
    assert _fields(found) == _fields(acme) and plan_code == acme.plan.code
    assert tenant_for_host(hostname="nosuch.localhost") is None
    Tenant.objects.filter(pk=acme.pk).update(status=Tenant.Status.SUSPENDED)
    assert tenant_for_host(hostname=hostname).is_active is False  # type: ignore[union-attr]


def test_an_annotation_is_set_on_each_instance_as_the_queryset_sets_it(world):
    globex = Tenant.objects.get(schema_name="globex")
    expected = sorted(globex.entitlements.values_list("dataset", flat=True))
    assert expected  # globex licenses datasets beyond its plan
    prefix = ApiToken.objects.get(pk=world.globex.members["viewer"].token_id).prefix

    found = BY_PREFIX.first(prefix)

    assert found is not None
    assert sorted(found.tenant_entitlements) == expected  # type: ignore[attr-defined]


def test_an_api_request_reads_its_tenants_entitlements_with_its_token_and_fresh_each_time(world):
    """The licence of a request costs no query of its own (apps/accounts/services.py); an entitlement
    granted or withdrawn is seen by the next request."""
    raw = world.globex.members["viewer"].token
    api_token_authenticate(raw=raw)  # its last use recorded: the next lookups only read
    globex = Tenant.objects.select_related("plan").get(schema_name="globex")
    entitled = set(globex.entitlements.values_list("dataset", flat=True))

    with CaptureQueriesContext(connection) as queries:
        datasets = tenant_datasets(tenant=api_token_authenticate(raw=raw).membership.tenant)

    assert len(queries.captured_queries) == 1
    assert datasets == frozenset(globex.plan.datasets) | entitled
    granted = entitlement_grant(tenant=globex, dataset="vendor:GRANTED")
    assert "vendor:GRANTED" in tenant_datasets(tenant=api_token_authenticate(raw=raw).membership.tenant)
    granted.delete()
    assert "vendor:GRANTED" not in tenant_datasets(tenant=api_token_authenticate(raw=raw).membership.tenant)


def test_granting_through_an_instance_forgets_the_entitlements_noted_on_it(world):
    tenant = api_token_authenticate(raw=world.globex.members["viewer"].token).membership.tenant
    assert "vendor:NOTED" not in tenant_datasets(tenant=tenant)

    entitlement_grant(tenant=tenant, dataset="vendor:NOTED")

    assert "vendor:NOTED" in tenant_datasets(tenant=tenant)
