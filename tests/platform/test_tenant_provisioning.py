"""tenant_create / tenant_suspend / tenant_resume, through the service and the HTTP surface."""

import pytest
from django.db import connection

from aurum.errors import ConflictError, InvalidInputError
from aurum.lakehouse.catalog import get_catalog
from tenants.models import Domain, Plan, Tenant
from tenants.services import tenant_create, tenant_resume, tenant_suspend


def _tables(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [schema])
        return {row[0] for row in cursor.fetchall()}


def _applied_migrations(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')
        return set(cursor.fetchall())


def test_tenant_create_provisions_schema_domain_and_lakehouse_namespace(world):
    plan = Plan.objects.get(code="standard")

    tenant = tenant_create(name="Initech Energy", schema_name="initech", plan=plan, datasets=["vendor:RP"])

    assert Tenant.objects.get(schema_name="initech").name == "Initech Energy"
    assert Domain.objects.get(tenant=tenant, is_primary=True).domain == "initech.localhost"
    assert _tables("initech") == _tables("tenant_template") != set()
    assert _applied_migrations("initech") == _applied_migrations("tenant_template")
    assert ("t_initech",) in get_catalog().list_namespaces()
    assert list(tenant.entitlements.values_list("dataset", flat=True)) == ["vendor:RP"]


@pytest.mark.parametrize(
    ("schema_name", "message"),
    [
        ("Acme Corp", "lowercase letters"),
        ("1acme", "lowercase letters"),
        ("public", "reserved"),
        ("tenant_template", "reserved"),
        ("market", "reserved"),
        ("pg_toast", "lowercase letters"),
    ],
)
def test_tenant_create_refuses_bad_schema_names(world, schema_name, message):
    template_before, public_before = _tables("tenant_template"), _tables("public")

    with pytest.raises(InvalidInputError, match=message) as refused:
        tenant_create(
            name=f"x {schema_name}", schema_name=schema_name, plan=Plan.objects.get(code="standard")
        )

    assert refused.value.issues[0].field == "schema_name"
    assert not Tenant.objects.filter(schema_name=schema_name).exists()
    assert _tables("tenant_template") == template_before
    assert _tables("public") == public_before


def test_tenant_create_refuses_duplicates_and_creates_nothing(world):
    before = Tenant.objects.count()
    with pytest.raises(ConflictError, match="already exists"):
        tenant_create(name="Other name", schema_name="acme", plan=Plan.objects.get(code="standard"))
    with pytest.raises(ConflictError, match="already exists"):
        tenant_create(name="acme energy", schema_name="acme2", plan=Plan.objects.get(code="standard"))
    with pytest.raises(ConflictError, match="taken"):
        tenant_create(
            name="Acme Two",
            schema_name="acme2",
            plan=Plan.objects.get(code="standard"),
            domain="acme.localhost",
        )
    assert Tenant.objects.count() == before
    assert _tables("acme2") == set()


@pytest.fixture
def legacy_schema(db: None) -> str:
    """A schema someone made by hand, with a table and a row, that no tenant owns."""
    with connection.cursor() as cursor:
        cursor.execute('CREATE SCHEMA "ledger_2019"')
        cursor.execute('CREATE TABLE "ledger_2019"."entries" (id int primary key, memo text)')
        cursor.execute('INSERT INTO "ledger_2019"."entries" VALUES (1, \'keep me\')')
    return "ledger_2019"


def _rows(schema: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT id, memo FROM "{schema}"."entries"')
        return cursor.fetchall()


def test_tenant_create_refuses_a_schema_that_exists_without_a_tenant_and_leaves_it_intact(
    world, legacy_schema
):
    with pytest.raises(ConflictError, match="already exists in the database") as refused:
        tenant_create(name="Ledger Power", schema_name=legacy_schema, plan=Plan.objects.get(code="standard"))

    assert refused.value.issues[0].field == "schema_name"
    assert refused.value.status == 409
    assert _tables(legacy_schema) == {"entries"}
    assert _rows(legacy_schema) == [(1, "keep me")]
    assert not Tenant.objects.filter(schema_name=legacy_schema).exists()
    assert not Domain.objects.filter(domain="ledger-2019.localhost").exists()


def test_adding_a_tenant_in_the_admin_over_an_existing_schema_is_refused_on_the_form(
    world, api, legacy_schema
):
    assert api.login(email=world.staff_email, password=world.staff_password)

    response = api.post(
        "/admin/tenants/tenant/add/",
        {"name": "Ledger Power", "schema_name": legacy_schema, "plan": Plan.objects.get(code="standard").pk},
    )

    assert response.status_code == 200
    assert "already exists in the database" in response.content.decode()
    assert _rows(legacy_schema) == [(1, "keep me")]
    assert not Tenant.objects.filter(schema_name=legacy_schema).exists()


def test_tenant_create_failing_midway_leaves_no_schema_and_no_row(world, monkeypatch):
    # Fault injection: the lakehouse namespace step fails after the schema was cloned.
    def broken_namespace(namespace: str) -> None:
        raise RuntimeError("catalog unreachable")

    monkeypatch.setattr("tenants.services.namespace_ensure", broken_namespace)
    with pytest.raises(RuntimeError, match="catalog unreachable"):
        tenant_create(name="Half Made", schema_name="halfmade", plan=Plan.objects.get(code="standard"))
    assert not Tenant.objects.filter(schema_name="halfmade").exists()
    assert not Domain.objects.filter(domain="halfmade.localhost").exists()
    assert _tables("halfmade") == set()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'halfmade'")
        assert cursor.fetchone() == (0,)


def test_suspended_tenant_gets_403_problem_and_keeps_its_data(world, api):
    tenant = Tenant.objects.get(schema_name="acme")
    memberships_before = tenant.memberships.count()
    tenant_suspend(tenant=tenant)

    response = api.get("/api/v2/me", **world.acme.auth("analyst"))

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["title"] == "Tenant suspended"
    assert "Acme Energy" in response.json()["detail"]
    portal = api.get("/login/", HTTP_HOST=world.acme.host)
    assert portal.status_code == 403
    assert tenant.memberships.count() == memberships_before
    assert _tables("acme") == _tables("tenant_template")
    # The other tenant is unaffected.
    assert api.get("/api/v2/me", **world.globex.auth("analyst")).status_code == 200

    tenant_resume(tenant=tenant)
    assert api.get("/api/v2/me", **world.acme.auth("analyst")).status_code == 200
