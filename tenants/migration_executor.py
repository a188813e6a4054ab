"""``migrate_schemas`` that skips the tenant schemas already at the latest migrations (decision 0049).

django-tenants runs Django's ``migrate`` once per schema: loading the migration state and checking the
recorder costs ~0.1–1 s a schema even when there is nothing to do, so a no-op over 1,000 tenants took many
minutes. This executor first reads, in one query per 200 schemas, which of them record every app's latest
migration, and hands only the others to django-tenants' standard executor. Anything but a plain forward
migration (an app label or target, ``--fake``, ``--fake-initial``, ``--plan``, ``--prune``, ``--check``,
``--run-syncdb``) runs the standard executor on every schema, as before.

Settings: ``GET_EXECUTOR_FUNCTION = "tenants.migration_executor.executor_for"``. ``--executor NAME`` still
picks one of django-tenants' executors by name.
"""

import sys
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django_tenants.migration_executors import get_executor
from django_tenants.migration_executors.standard import StandardExecutor
from django_tenants.utils import get_public_schema_name, get_tenant_database_alias, quote_schema_name

CHUNK = 200
UNSKIPPABLE_OPTIONS = (
    "app_label",
    "migration_name",
    "fake",
    "fake_initial",
    "plan",
    "prune",
    "check_unapplied",
    "run_syncdb",
)


def executor_for(codename: str | None = None) -> type:
    return SkipCurrentExecutor if codename in (None, SkipCurrentExecutor.codename) else get_executor(codename)


def schemas_at_latest(schemas: Sequence[str], *, database: str | None = None) -> set[str]:
    """Those of ``schemas`` whose ``django_migrations`` records the latest migration of every app."""
    leaves = sorted(MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes())
    if not schemas:
        return set()
    connection = connections[database or get_tenant_database_alias()]
    current: set[str] = set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid"
            " WHERE c.relname = 'django_migrations' AND c.relkind = 'r' AND n.nspname = ANY(%s)",
            [list(schemas)],
        )
        with_table = sorted(row[0] for row in cursor.fetchall())
        for start in range(0, len(with_table), CHUNK):
            chunk = with_table[start : start + CHUNK]
            union = " UNION ALL ".join(
                f"SELECT %s AS schema_name, count(DISTINCT (app, name)) AS n"
                f" FROM {quote_schema_name(name)}.django_migrations"
                f" WHERE (app, name) IN (SELECT * FROM unnest(%s::text[], %s::text[]))"
                for name in chunk
            )
            params: list[Any] = []
            for name in chunk:
                params += [name, [app for app, _ in leaves], [migration for _, migration in leaves]]
            cursor.execute(union, params)
            current.update(name for name, count in cursor.fetchall() if count == len(leaves))
    return current


class SkipCurrentExecutor(StandardExecutor):
    codename = "skip-current"

    def _skippable(self) -> bool:
        return not any(self.options.get(option) for option in UNSKIPPABLE_OPTIONS)

    def run_migrations(self, tenants: Iterable[str] | None = None) -> None:
        schemas = list(tenants or [])
        tenant_schemas = [name for name in schemas if name != get_public_schema_name()]
        if self._skippable() and tenant_schemas:
            current = schemas_at_latest(tenant_schemas, database=self.options.get("database"))
            if current and int(self.options.get("verbosity", 1)) >= 1:
                sys.stdout.write(
                    f"[{self.codename}] {len(current)} of {len(tenant_schemas)} tenant schemas are at the"
                    " latest migrations: skipped.\n"
                )
            schemas = [name for name in schemas if name not in current]
        super().run_migrations(tenants=schemas)
