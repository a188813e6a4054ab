"""Spare tenant schemas (decision 0049): provisioning renames a spare cloned ahead of need, only while it
matches the template, never the same spare twice; ``migrate_schemas`` skips schemas already migrated."""

import threading

import pytest
from django.core.management import call_command
from django.db import connection

from aurum.errors import InvalidInputError
from aurum.lakehouse.catalog import get_catalog
from tenants.models import Domain, Entitlement, Plan, SpareSchema, Tenant
from tenants.services import tenant_create
from tenants.spares import spares_fill


def _tables(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [schema])
        return {row[0] for row in cursor.fetchall()}


def _applied(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')
        return set(cursor.fetchall())


def _schema_exists(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema])
        return cursor.fetchone() is not None


def test_provisioning_renames_a_spare_and_asks_for_a_refill_once_committed(
    world, settings, django_capture_on_commit_callbacks
):
    settings.AURUM_TENANT_SPARE_SCHEMAS = 1
    assert spares_fill() == 1
    (spare,) = SpareSchema.objects.values_list("schema_name", flat=True)
    assert _tables(spare) == _tables("tenant_template") != set()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        tenant = tenant_create(name="Spare Co", schema_name="spareco", plan=Plan.objects.get(code="standard"))

    assert not _schema_exists(spare)
    assert not SpareSchema.objects.exists()
    assert _tables("spareco") == _tables("tenant_template")
    assert _applied("spareco") == _applied("tenant_template")
    assert Domain.objects.get(tenant=tenant).domain == "spareco.localhost"
    assert ("t_spareco",) in get_catalog().list_namespaces()
    assert len(callbacks) == 1  # the refill task, sent only when the provisioning commits
    # The renamed schema works as a tenant's: its tables are reachable under the new name.
    with connection.cursor() as cursor:
        cursor.execute('SELECT count(*) FROM "spareco".django_content_type')
        assert cursor.fetchone()[0] > 0


def test_a_spare_whose_migrations_differ_from_the_template_is_not_used_and_is_replaced(world, settings):
    settings.AURUM_TENANT_SPARE_SCHEMAS = 1
    spares_fill()
    (stale,) = SpareSchema.objects.values_list("schema_name", flat=True)
    with connection.cursor() as cursor:  # as if cloned before the template's latest migration
        cursor.execute(f'DELETE FROM "{stale}".django_migrations WHERE app = %s', ["tenants"])

    tenant_create(name="Cloned Co", schema_name="clonedco", plan=Plan.objects.get(code="standard"))

    assert _schema_exists(stale)  # untouched: the tenant was cloned from the template instead
    assert _applied("clonedco") == _applied("tenant_template")
    assert spares_fill() == 1
    assert not _schema_exists(stale)
    (fresh,) = SpareSchema.objects.values_list("schema_name", flat=True)
    assert _applied(fresh) == _applied("tenant_template")


def test_a_failed_provisioning_puts_the_spare_back(world, settings, monkeypatch):
    settings.AURUM_TENANT_SPARE_SCHEMAS = 1
    spares_fill()
    (spare,) = SpareSchema.objects.values_list("schema_name", flat=True)

    def broken_namespace(namespace: str) -> None:
        raise RuntimeError("catalog unreachable")

    monkeypatch.setattr("tenants.services.namespace_ensure", broken_namespace)
    with pytest.raises(RuntimeError, match="catalog unreachable"):
        tenant_create(name="Half Made", schema_name="halfmade", plan=Plan.objects.get(code="standard"))

    assert list(SpareSchema.objects.values_list("schema_name", flat=True)) == [spare]
    assert _schema_exists(spare) and not _schema_exists("halfmade")
    assert not Tenant.objects.filter(schema_name="halfmade").exists()


def test_spare_schema_names_are_reserved(world):
    with pytest.raises(InvalidInputError, match="reserved"):
        tenant_create(name="Sneaky", schema_name="spare_0123", plan=Plan.objects.get(code="standard"))


def _remove_tenant(schema: str) -> None:
    tenant = Tenant.objects.filter(schema_name=schema).first()
    if tenant is not None:
        Domain.objects.filter(tenant=tenant).delete()
        Entitlement.objects.filter(tenant=tenant).delete()
        Tenant.objects.filter(pk=tenant.pk).delete()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    catalog = get_catalog()
    if (f"t_{schema}",) in catalog.list_namespaces():
        catalog.drop_namespace(f"t_{schema}")


def test_two_provisionings_at_once_never_share_a_spare(committed_world, settings):
    """Committed, each thread on its own connection: one spare, two tenants; both are made, one from the
    spare and one by cloning, and the spare is gone."""
    settings.AURUM_TENANT_SPARE_SCHEMAS = 0  # no refill task from the threads
    spares_fill(target=1)
    (spare,) = SpareSchema.objects.values_list("schema_name", flat=True)
    plan = Plan.objects.get(code="standard")
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def provision(schema: str) -> None:
        try:
            start.wait()
            tenant_create(name=f"Race {schema}", schema_name=schema, plan=plan)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=provision, args=(name,)) for name in ("race_a", "race_b")]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert not _schema_exists(spare)
        assert not SpareSchema.objects.exists()
        for schema in ("race_a", "race_b"):
            assert _tables(schema) == _tables("tenant_template")
            assert _applied(schema) == _applied("tenant_template")
    finally:
        for schema in ("race_a", "race_b"):
            _remove_tenant(schema)
        for leftover in SpareSchema.objects.all():
            with connection.cursor() as cursor:
                cursor.execute(f'DROP SCHEMA IF EXISTS "{leftover.schema_name}" CASCADE')
            leftover.delete()


def test_migrate_schemas_skips_the_schemas_at_the_latest_migrations_and_migrates_the_others(world, capsys):
    tenant_schemas = list(Tenant.objects.values_list("schema_name", flat=True))
    assert "acme" in tenant_schemas and len(tenant_schemas) > 1
    with connection.cursor() as cursor:  # acme lacks a record: as if it had missed a migration
        cursor.execute(
            "DELETE FROM acme.django_migrations WHERE app = 'tenants' AND name = '0005_spareschema'"
        )

    call_command("migrate_schemas", tenant=True, interactive=False, verbosity=1)

    out = capsys.readouterr().out
    skipped = len(tenant_schemas) - 1
    assert f"{skipped} of {len(tenant_schemas)} tenant schemas are at the latest migrations: skipped." in out
    assert "skip-current:acme] === Starting migration" in out
    assert _applied("acme") == _applied("tenant_template")
