"""The backup and restore drill (issue 14): a platform built with the demo's data is backed up, a tenant is
restored over a later change, the database and warehouse are lost, the platform is restored, and the
restored platform agrees with the backup: every table at its snapshot with every file present, every audit
chain intact at the head it had.

The drill runs the operator's commands in subprocesses against a database and warehouse of its own
(aurum/devstack/drill.py), so the suite's own database is never touched.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from aurum.devstack.drill import Drill, DrillReport
from tests.support.world import database_url

# Builds a platform from scratch (migrations, demo data): minutes, so a drill (`make drills`).
pytestmark = [pytest.mark.live, pytest.mark.drill, pytest.mark.slow, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def drill(
    tmp_path_factory: pytest.TempPathFactory, django_db_setup: None
) -> Iterator[tuple[Drill, DrillReport]]:
    workdir = tmp_path_factory.mktemp("drill")
    env = {**os.environ, "DATABASE_URL": database_url()}
    run = Drill(workdir=workdir, base_env=env, days=1)
    try:
        yield run, run.run()
    finally:
        run.drop()


def test_a_lost_platform_comes_back_as_it_was_backed_up(drill):
    _, report = drill
    built, restored = report.facts["built"], report.facts["platform_restored"]

    assert built["curve_rows"] > 0 and built["runs"] >= 1
    assert restored == built
    assert "tables at their backed-up snapshots with every file present" in report.outputs["restore_platform"]
    assert "intact" in report.outputs["restore_platform"]
    assert "acme: ok" in report.outputs["audit_verify"]


def test_a_tenant_restore_undoes_that_tenant_s_later_changes_only(drill):
    _, report = drill
    built, changed, restored = (report.facts[k] for k in ("built", "changed", "tenant_restored"))

    assert len(changed["scenarios"]) == len(built["scenarios"]) + 1  # the change made after the backup
    assert changed["audit_head"][0] > built["audit_head"][0]
    assert restored["scenarios"] == built["scenarios"]
    assert restored["audit_head"] == built["audit_head"]
    assert restored["curve_rows"] == changed["curve_rows"]  # market data is not the tenant's: untouched


def test_a_damaged_backup_is_refused_before_anything_changes(drill):
    run, _ = drill
    damaged = run.workdir / "damaged-backup"
    shutil.copytree(run.workdir / "acme-backup", damaged)
    dump = damaged / "postgres.dump"
    dump.write_bytes(dump.read_bytes()[:-10] + b"0123456789")

    done = run.manage("backup_restore", "--from", str(damaged), "--yes", check=False)

    assert done.returncode != 0
    assert "postgres.dump does not match its sha256 in the manifest: the backup is damaged." in done.stderr
    assert run.manage("backup_verify", "--from", str(run.workdir / "acme-backup")).returncode == 0


def test_verify_names_a_table_whose_file_is_gone(drill):
    run, _ = drill
    manifest = json.loads((run.workdir / "acme-backup" / "manifest.json").read_text())
    identifier, facts = next(iter(manifest["tables"].items()))
    data = next(Path(facts["location"].removeprefix("file://")).joinpath("data").rglob("*.parquet"))
    data.unlink()

    done = run.manage("backup_verify", "--from", str(run.workdir / "acme-backup"), check=False)

    assert done.returncode == 1
    assert f"{identifier}: 1 files its snapshots name are missing" in done.stderr
