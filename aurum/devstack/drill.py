"""The backup and restore drill: build a platform, back it up, lose it, restore it, prove it agrees.

Runs every step as the operator would, with ``manage.py`` in subprocesses, against a database of its own in
the Postgres cluster ``DATABASE_URL`` names and a warehouse in ``workdir``: the demo's data (migrations,
reference data, ``days`` EOD days, the demo tenants with a scenario run and a PPA valuation), a platform
backup and a tenant backup of acme, a change to acme, the tenant restore (the change is gone), then the
disaster (database dropped, warehouse deleted) and the platform restore, timed. Used by
``tests/resilience/test_backup_restore.py`` and ``bench/restore_drill.py`` (figures in docs/operations.md).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parents[2]
# Printed by the facts snippet: what a restore must bring back, counted through the ORM and the lakehouse.
_FACTS = """
import json
from django_tenants.utils import schema_context
from apps.audit.selectors import audit_head
from apps.scenarios.models import Scenario, ScenarioRun
from aurum.lakehouse.tables import curve_observation_table
facts = {"curve_rows": curve_observation_table().scan().to_arrow().num_rows}
with schema_context("acme"):
    head = audit_head()
    facts.update(
        scenarios=sorted(str(s.pk) for s in Scenario.objects.all()),
        audit_head=[head.sequence, head.hash],
        runs=ScenarioRun.objects.filter(status="succeeded").count(),
    )
print("FACTS " + json.dumps(facts))
"""
_CHANGE = """
from django_tenants.utils import schema_context
from apps.scenarios.services.scenarios import scenario_create
from tenants.models import Tenant
tenant = Tenant.objects.get(schema_name="acme")
with schema_context("acme"):
    scenario_create(tenant=tenant, name="made after the backup", actor=None)
"""


@dataclass
class DrillReport:
    seconds: dict[str, float] = field(default_factory=dict)
    facts: dict[str, dict[str, object]] = field(default_factory=dict)
    backup_bytes: int = 0
    outputs: dict[str, str] = field(default_factory=dict)


class DrillError(Exception):
    pass


def _database_url(base: str, name: str) -> str:
    return urlunsplit(urlsplit(base)._replace(path=f"/{name}"))


def _admin(base_url: str) -> psycopg.Connection[tuple[object, ...]]:
    url = _database_url(base_url, "postgres").replace("postgres://", "postgresql://", 1)
    return psycopg.connect(url, autocommit=True)


class Drill:
    def __init__(self, *, workdir: Path, base_env: dict[str, str], days: int) -> None:
        self.workdir = workdir
        self.days = days
        self.database = f"drill_{secrets.token_hex(4)}"
        self.base_url = base_env["DATABASE_URL"]
        self.warehouse = workdir / "warehouse"
        self.env = {
            **{k: v for k, v in base_env.items() if k not in ("PYTEST_XDIST_WORKER", "AURUM_XDIST_ISOLATED")},
            "DATABASE_URL": _database_url(self.base_url, self.database),
            "AURUM_WAREHOUSE": self.warehouse.as_uri(),
            "AURUM_VAR_DIR": str(workdir / "var"),
        }
        self.report = DrillReport()

    def manage(
        self, *args: str, step: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return self._python(["manage.py", *args], step=step, check=check)

    def _python(
        self, args: list[str], *, step: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, *args], env=self.env, cwd=ROOT, capture_output=True, text=True, check=False
        )
        if step:
            self.report.seconds[step] = round(time.monotonic() - started, 2)
            self.report.outputs[step] = done.stdout + done.stderr
        if check and done.returncode != 0:
            raise DrillError(
                f"{' '.join(args[:3])} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
            )
        return done

    def facts(self, label: str) -> dict[str, object]:
        out = self.manage("shell", "-c", _FACTS).stdout
        line = next(line for line in out.splitlines() if line.startswith("FACTS "))
        self.report.facts[label] = json.loads(line.removeprefix("FACTS "))
        return self.report.facts[label]

    def build(self) -> None:
        with _admin(self.base_url) as admin:
            admin.execute(f'CREATE DATABASE "{self.database}"')
        (self.workdir / "var").mkdir(parents=True, exist_ok=True)
        self.manage("platform_migrate", "-v", "0", step="build_migrate")
        self.manage("load_reference", step="build_reference")
        self._python(["-m", "aurum.devstack.demo", "ingest", "--days", str(self.days)], step="build_ingest")
        self._python(["-m", "aurum.devstack.demo", "seed"], step="build_seed")

    def disaster(self) -> None:
        """Lose everything: the database dropped, the warehouse folder deleted."""
        self.drop()
        shutil.rmtree(self.warehouse)

    def drop(self) -> None:
        with _admin(self.base_url) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [self.database]
            )
            admin.execute(f'DROP DATABASE IF EXISTS "{self.database}"')

    def run(self) -> DrillReport:
        platform, tenant = self.workdir / "platform-backup", self.workdir / "acme-backup"
        self.build()
        self.facts("built")
        self.manage("backup_create", "--out", str(platform), step="backup_platform")
        self.manage("backup_create", "--tenant", "acme", "--out", str(tenant), step="backup_tenant")
        self.report.backup_bytes = sum(p.stat().st_size for p in platform.rglob("*") if p.is_file())
        self.manage("shell", "-c", _CHANGE)
        self.facts("changed")
        self.manage("backup_restore", "--from", str(tenant), "--yes", step="restore_tenant")
        self.facts("tenant_restored")
        self.disaster()
        self.manage("backup_restore", "--from", str(platform), "--yes", step="restore_platform")
        self.facts("platform_restored")
        self.manage("audit_verify", step="audit_verify")
        return self.report


def main() -> int:
    """``python -m aurum.devstack.drill [DAYS]`` under ``python -m aurum.devstack run`` (make bench)."""
    days = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    workdir = Path(os.environ.get("AURUM_VAR_DIR", ROOT / "var")) / f"drill-{secrets.token_hex(3)}"
    drill = Drill(workdir=workdir, base_env=dict(os.environ), days=days)
    try:
        report = drill.run()
    finally:
        drill.drop()
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        json.dumps(
            {"seconds": report.seconds, "backup_bytes": report.backup_bytes, "facts": report.facts}, indent=1
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
