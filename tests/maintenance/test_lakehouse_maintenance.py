"""Lakehouse maintenance (decision 0038): expiry keeps every pinned snapshot, compaction keeps every row,
orphan cleanup removes only what no snapshot names, a busy table is skipped, a dry run changes nothing.

Each test makes its own Iceberg table in the session's warehouse (real catalog, real files) and passes it by
name, so the curve tables other tests rely on are never touched.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pyarrow as pa
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tenants.utils import schema_context
from prometheus_client import REGISTRY
from pyiceberg.table import Table
from pyiceberg.table.snapshots import Snapshot

from apps.ingestion.models import IngestRun
from apps.maintenance.models import MaintenanceRun
from apps.maintenance.services import lakehouse_maintain
from apps.scenarios.models import Scenario, ScenarioRun
from aurum.lakehouse.catalog import get_catalog
from aurum.lakehouse.locks import advisory_lock_key, table_lock_name
from aurum.lakehouse.maintenance import COMPACTION_PROPERTY, dead_manifests, referenced_files
from aurum.lakehouse.tables import identity, table_ensure
from tests.support.world import database_url

SCHEMA = pa.schema(
    [pa.field("region", pa.string()), pa.field("day", pa.date32()), pa.field("value", pa.int64())]
)
# Well past the retention (7 days) and the orphan age (72 h): every superseded snapshot is due.
LATER = timedelta(days=30)


def _batch(region: str, start: int, n: int = 3) -> pa.Table:
    return pa.table(
        {
            "region": [region] * n,
            "day": [date(2026, 1, 1) + timedelta(days=start + i) for i in range(n)],
            "value": [start * 100 + i for i in range(n)],
        },
        schema=SCHEMA,
    )


@pytest.fixture
def table_id(db):
    """A fresh table with 5 appends to partition 'north' and 5 to 'south': 10 snapshots, 10 small files."""
    identifier = f"maint_{uuid.uuid4().hex[:8]}.sample"
    table = table_ensure(identifier, SCHEMA, partition=(identity("region"),), sort=("day",))
    for i in range(5):
        table.append(_batch("north", i * 3))
        table.append(_batch("south", i * 3))
    yield identifier
    get_catalog().purge_table(identifier)


def _rows(table, snapshot_id=None) -> list[tuple]:
    data = table.scan(snapshot_id=snapshot_id).to_arrow()
    return sorted(zip(*(data.column(n).to_pylist() for n in SCHEMA.names), strict=True))


def _expected(regions_and_starts) -> list[tuple]:
    rows = []
    for region, start in regions_and_starts:
        rows += [(region, date(2026, 1, 1) + timedelta(days=start + i), start * 100 + i) for i in range(3)]
    return sorted(rows)


def _current(table: Table) -> Snapshot:
    snapshot = table.current_snapshot()
    assert snapshot is not None
    return snapshot


def _files_on_disk(table) -> set[str]:
    root = Path(table.location().removeprefix("file://"))
    return {str(p) for p in root.rglob("*") if p.is_file()}


def _live_files(table) -> int:
    return len(table.inspect.files())


@pytest.fixture
def maintenance_settings(settings):
    settings.AURUM_LAKEHOUSE_COMPACT_MIN_FILES = 4
    settings.AURUM_LAKEHOUSE_SMALL_FILE_BYTES = 10 * 1024 * 1024
    return settings


def _pin_in_acme(world, snapshot_id: int) -> None:
    """A scenario run of acme's recording that it read ``snapshot_id`` (as a real run does at dispatch)."""
    with schema_context(world.acme.schema):
        scenario = Scenario.objects.create(name="pinned")
        ScenarioRun.objects.create(
            scenario=scenario,
            input_hash="0" * 64,
            code_version="test",
            queued_at=timezone.now(),
            curve_snapshot_id=snapshot_id,
        )


def _pin_by_ingest(snapshot_id: int) -> None:
    IngestRun.objects.create(
        file_name="EOD_X_20260101_1430.xlsx",
        sha256="1" * 64,
        size_bytes=1,
        raw_uri="file:///nowhere",
        source="api",
        vendor="X",
        dataset="vendor:X",
        status="succeeded",
        snapshot_id=snapshot_id,
    )


def test_a_pass_compacts_expires_and_cleans_but_keeps_every_pinned_snapshot(
    world, table_id, maintenance_settings
):
    table = get_catalog().load_table(table_id)
    snapshots = [s.snapshot_id for s in table.metadata.snapshots]
    pinned_by_run, pinned_by_ingest = snapshots[2], snapshots[5]  # after 3 and 6 appends
    _pin_in_acme(world, pinned_by_run)
    _pin_by_ingest(pinned_by_ingest)
    all_rows = _expected([(r, i * 3) for i in range(5) for r in ("north", "south")])
    assert _live_files(table) == 10

    run = lakehouse_maintain(tables=[table_id], now=timezone.now() + LATER)

    table = get_catalog().load_table(table_id)
    report = run.tables[table_id]
    assert run.status == MaintenanceRun.Status.SUCCEEDED
    assert report["compacted_partitions"] == 2
    assert (report["files_removed"], report["files_added"]) == (10, 2)
    assert _live_files(table) == 2
    assert _rows(table) == all_rows
    summary = _current(table).summary
    assert summary is not None and summary[COMPACTION_PROPERTY] == "compaction"
    # expiry runs before compaction: of the 10 appends, the two pinned ones and the last (current until the
    # compaction replaced it: it stays for the retention from now) remain, beside the compaction's
    assert report["expired"] == 7
    assert {s.snapshot_id for s in table.metadata.snapshots} == {
        pinned_by_run,
        pinned_by_ingest,
        snapshots[-1],
        _current(table).snapshot_id,
    }
    # the pinned snapshots still read exactly what they held when they were taken
    assert _rows(table, pinned_by_run) == _expected([("north", 0), ("south", 0), ("north", 3)])
    assert _rows(table, pinned_by_ingest) == _expected(
        [("north", 0), ("south", 0), ("north", 3), ("south", 3), ("north", 6), ("south", 6)]
    )
    assert report["orphan_files"] > 0 and report["orphan_bytes"] > 0
    assert run.pinned_snapshots >= 2


def test_orphan_cleanup_removes_only_unreferenced_files_older_than_the_cutoff(
    world, table_id, maintenance_settings
):
    table = get_catalog().load_table(table_id)
    keep = table.metadata.snapshots[0].snapshot_id
    _pin_by_ingest(keep)
    stray = Path(table.location().removeprefix("file://")) / "data" / "stray-from-a-dead-writer.parquet"
    stray.write_bytes(b"x" * 100)

    # at today's time nothing is old enough: no file goes, whatever its state
    first = lakehouse_maintain(tables=[table_id]).tables[table_id]
    assert first["orphan_files"] == 0 and first["expired"] == 0
    assert stray.exists()

    lakehouse_maintain(tables=[table_id], now=timezone.now() + LATER)

    table = get_catalog().load_table(table_id)
    assert not stray.exists()
    assert _rows(table, keep) == _expected([("north", 0)])
    assert _rows(table) == _expected([(r, i * 3) for i in range(5) for r in ("north", "south")])
    # every file left on disk is named by a remaining snapshot or is table metadata
    referenced = referenced_files(table)
    leftovers = {f for f in _files_on_disk(table) if f not in referenced and not f.endswith(".metadata.json")}
    assert leftovers == set()


def test_a_dry_run_reports_and_changes_nothing(table_id, maintenance_settings):
    table = get_catalog().load_table(table_id)
    snapshots_before = [s.snapshot_id for s in table.metadata.snapshots]
    files_before = _files_on_disk(table)

    run = lakehouse_maintain(tables=[table_id], now=timezone.now() + LATER, dry_run=True)

    table = get_catalog().load_table(table_id)
    report = run.tables[table_id]
    assert (report["expired"], report["files_removed"], report["files_added"]) == (9, 10, 0)
    assert [s.snapshot_id for s in table.metadata.snapshots] == snapshots_before
    assert _files_on_disk(table) == files_before
    assert run.dry_run is True


def test_a_table_whose_writers_hold_the_lock_is_skipped_untouched(table_id, maintenance_settings):
    maintenance_settings.AURUM_LAKEHOUSE_LOCK_WAIT_SECONDS = 0.2
    table = get_catalog().load_table(table_id)
    snapshots_before = [s.snapshot_id for s in table.metadata.snapshots]
    key = advisory_lock_key(table_lock_name(table_id))
    with psycopg.connect(database_url().replace("postgres://", "postgresql://"), autocommit=True) as writer:
        writer.execute("SELECT pg_advisory_lock(%s)", [key])
        run = lakehouse_maintain(tables=[table_id], now=timezone.now() + LATER)

    assert run.tables[table_id]["skipped"].startswith("busy")
    assert run.status == MaintenanceRun.Status.SUCCEEDED
    table = get_catalog().load_table(table_id)
    assert [s.snapshot_id for s in table.metadata.snapshots] == snapshots_before


def test_a_recently_superseded_snapshot_stays_for_the_retention_however_old(table_id, maintenance_settings):
    """A snapshot taken long ago but replaced only now may just have been pinned by a run whose record is
    not committed yet: retention counts from its replacement."""
    table = get_catalog().load_table(table_id)
    current = _current(table).snapshot_id
    table.append(_batch("east", 0))  # replaces ``current`` now
    run = lakehouse_maintain(tables=[table_id], now=timezone.now() + timedelta(days=6))

    table = get_catalog().load_table(table_id)
    assert current in {s.snapshot_id for s in table.metadata.snapshots}
    assert run.tables[table_id]["expired"] == 0


def test_metrics_count_what_a_pass_removed(table_id, maintenance_settings):
    def value(name: str) -> float:
        return REGISTRY.get_sample_value(name) or 0.0

    before = {
        n: value(n)
        for n in ("aurum_lakehouse_snapshots_expired_total", "aurum_lakehouse_files_compacted_total")
    }
    lakehouse_maintain(tables=[table_id], now=timezone.now() + LATER)

    assert (
        value("aurum_lakehouse_snapshots_expired_total") - before["aurum_lakehouse_snapshots_expired_total"]
        == 9
    )
    assert (
        value("aurum_lakehouse_files_compacted_total") - before["aurum_lakehouse_files_compacted_total"] == 10
    )


def test_the_command_refuses_an_unknown_table_and_reports_a_pass(table_id, maintenance_settings, capsys):
    with pytest.raises(CommandError, match="No such table: market.nope"):
        call_command("lakehouse_maintain", "--table", "market.nope")

    call_command("lakehouse_maintain", "--dry-run", "--table", table_id)

    out = capsys.readouterr().out
    assert f"{table_id}: would expire 0 snapshots, compact 10 files in 2 partitions into 0" in out


def test_beat_runs_it_nightly_on_the_maintenance_queue(settings):
    from celery import current_app

    entry = settings.CELERY_BEAT_SCHEDULE["lakehouse-maintenance-nightly"]
    assert entry["task"] == "maintenance.lakehouse"
    assert current_app.amqp.router.route({}, "maintenance.lakehouse")["queue"].name == "maintenance"


def test_manifests_without_a_live_file_are_dropped_and_every_row_is_kept(table_id, settings):
    """pyiceberg's delete records what it removed in a manifest of DELETED entries, and its next delete or
    overwrite carries that manifest on into every later snapshot, where each plan reads it (decision 0059)."""
    settings.AURUM_LAKEHOUSE_COMPACT_MIN_FILES = 1000  # no compaction in this pass: it would drop them too
    table = get_catalog().load_table(table_id)
    table.append(_batch("east", 0))
    table.delete("region = 'north'")
    table.delete("region = 'east'")  # lists its own removals, and north's
    table = get_catalog().load_table(table_id)
    assert dead_manifests(table) == 1
    rows, snapshots = _rows(table), len(table.metadata.snapshots)

    dry = lakehouse_maintain(tables=[table_id], dry_run=True)
    assert dry.tables[table_id]["manifests_dropped"] == 1
    assert len(get_catalog().load_table(table_id).metadata.snapshots) == snapshots

    dropped_before = REGISTRY.get_sample_value("aurum_lakehouse_manifests_dropped_total") or 0.0
    run = lakehouse_maintain(tables=[table_id])

    table = get_catalog().load_table(table_id)
    assert run.tables[table_id]["manifests_dropped"] == 1
    assert (REGISTRY.get_sample_value("aurum_lakehouse_manifests_dropped_total") or 0.0) - dropped_before == 1
    assert dead_manifests(table) == 0
    assert _rows(table) == rows == _expected([("south", i * 3) for i in range(5)])
    summary = _current(table).summary
    assert summary is not None and summary[COMPACTION_PROPERTY] == "manifests"
    assert len(table.metadata.snapshots) == snapshots + 1

    again = lakehouse_maintain(tables=[table_id])
    assert again.tables[table_id]["manifests_dropped"] == 0
    assert len(get_catalog().load_table(table_id).metadata.snapshots) == snapshots + 1  # nothing committed
