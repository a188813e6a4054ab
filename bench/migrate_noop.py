"""A no-op ``migrate_schemas`` over many tenants: the skip-current executor vs django-tenants' standard one.

Run: make bench BENCH=bench/migrate_noop.py   (throwaway Postgres and Redis)
BENCH_TENANTS (default 1000) tenant schemas are made quickly for the bench: the template's DDL from pg_dump,
renamed per schema (the same tables, indexes and migration records a clone gives), with Tenant rows. The
standard executor is timed on BENCH_STANDARD_SAMPLE (default 50) of them and extrapolated, since it takes
minutes over all of them; the skip-current executor (the default) runs over all.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.local")
os.environ["AURUM_TENANT_SPARE_SCHEMAS"] = "0"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from aurum.tenancy.db import tenant_connection  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.services import plan_ensure  # noqa: E402

COUNT = int(os.environ.get("BENCH_TENANTS", "1000"))
SAMPLE = int(os.environ.get("BENCH_STANDARD_SAMPLE", "50"))


def template_ddl() -> str:
    db = settings.DATABASES["default"]
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    pg_dump = shutil.which("pg_dump") or "/usr/lib/postgresql/15/bin/pg_dump"
    dump = subprocess.run(
        [
            pg_dump,
            "--schema-only",
            "--schema",
            settings.TENANT_BASE_SCHEMA,
            "--no-owner",
            "--no-privileges",
            "-h",
            db["HOST"],
            "-p",
            str(db["PORT"]),
            "-U",
            db["USER"],
            db["NAME"],
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    lines = [
        line
        for line in dump.splitlines()
        if not line.startswith(("SET ", "SELECT pg_catalog.set_config", "\\"))
    ]
    return "\n".join(lines)


def make_tenants(ddl: str) -> list[str]:
    plan = plan_ensure(code="bench", name="Bench")
    names = [f"noop_{i:04d}" for i in range(COUNT)]
    template = settings.TENANT_BASE_SCHEMA
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [template])
        tables = [row[0] for row in cursor.fetchall()]
    for name in names:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(ddl.replace(template, name))
            for table in tables:  # the migration records and content types a clone copies
                cursor.execute(f'INSERT INTO "{name}"."{table}" SELECT * FROM "{template}"."{table}"')
    Tenant.objects.bulk_create([Tenant(name=name, schema_name=name, plan=plan) for name in names])
    tenant_connection().set_schema_to_public()
    return names


def main() -> None:
    call_command("platform_migrate", verbosity=0)
    started = time.perf_counter()
    names = make_tenants(template_ddl())
    print(f"made {len(names)} tenant schemas in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    call_command("migrate_schemas", tenant=True, interactive=False, verbosity=0)
    skip_seconds = time.perf_counter() - started

    sample = names[:SAMPLE]
    started = time.perf_counter()
    for name in sample:
        call_command("migrate_schemas", schema_name=name, executor="standard", interactive=False, verbosity=0)
    standard_seconds = time.perf_counter() - started
    per_schema = standard_seconds / len(sample)
    print(f"skip-current executor, all {len(names)} tenants: {skip_seconds:.2f} s")
    print(
        f"standard executor, {len(sample)} tenants: {standard_seconds:.2f} s"
        f" ({per_schema * 1000:.0f} ms a schema;"
        f" {per_schema * len(names):.0f} s extrapolated to {len(names)})"
    )


if __name__ == "__main__":
    main()
