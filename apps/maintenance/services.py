"""Lakehouse maintenance over every Iceberg table: expiry, compaction, manifest pruning, orphan cleanup
(decisions 0038, 0059).

One pass takes each table in turn, under its writers' lock (so a step never races an Aurum commit), and
skips a table whose lock stays busy for ``AURUM_LAKEHOUSE_LOCK_WAIT_SECONDS``: the next pass takes it. A
table whose step fails is reported and the pass goes on with the others.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pyiceberg.table import Table

from apps.maintenance.backups import maintenance_held
from apps.maintenance.models import MaintenanceRun
from apps.maintenance.pins import pinned_snapshot_ids
from aurum.lakehouse.catalog import get_catalog
from aurum.lakehouse.locks import LockTimeoutError, advisory_xact_lock
from aurum.lakehouse.maintenance import (
    manifests_prune,
    orphan_files_remove,
    snapshots_expire,
    table_compact,
    writer_lock_name,
)
from aurum.observability.metrics import (
    LAKEHOUSE_FILES_COMPACTED,
    LAKEHOUSE_MAINTENANCE_SECONDS,
    LAKEHOUSE_MANIFESTS_DROPPED,
    LAKEHOUSE_ORPHAN_BYTES,
    LAKEHOUSE_ORPHAN_FILES,
    LAKEHOUSE_SNAPSHOTS_EXPIRED,
)

log = structlog.get_logger(__name__)


def lakehouse_tables() -> list[str]:
    """Every table of the catalog, as ``namespace.table``, sorted."""
    catalog = get_catalog()
    found: list[str] = []
    for namespace in catalog.list_namespaces():
        found.extend(".".join(identifier) for identifier in catalog.list_tables(namespace))
    return sorted(found)


def _table_maintain(table: Table, *, now: datetime, keep: set[int], dry_run: bool) -> dict[str, Any]:
    expired = snapshots_expire(
        table,
        older_than=now - timedelta(days=settings.AURUM_LAKEHOUSE_SNAPSHOT_RETENTION_DAYS),
        keep=keep,
        dry_run=dry_run,
    )
    compaction = table_compact(
        table,
        small_file_bytes=settings.AURUM_LAKEHOUSE_SMALL_FILE_BYTES,
        min_files=settings.AURUM_LAKEHOUSE_COMPACT_MIN_FILES,
        dry_run=dry_run,
    )
    manifests = manifests_prune(table, dry_run=dry_run)  # after compaction, which drops them too
    orphans = orphan_files_remove(
        table,
        older_than=now - timedelta(hours=settings.AURUM_LAKEHOUSE_ORPHAN_AGE_HOURS),
        dry_run=dry_run,
    )
    return {
        "expired": len(expired),
        "compacted_partitions": compaction.partitions,
        "files_removed": compaction.files_removed,
        "files_added": compaction.files_added,
        "manifests_dropped": manifests,
        "orphan_files": orphans.files,
        "orphan_bytes": orphans.bytes,
    }


def lakehouse_maintain(
    *, dry_run: bool = False, tables: list[str] | None = None, now: datetime | None = None
) -> MaintenanceRun:
    """Run one maintenance pass over ``tables`` (default: every table) and record it."""
    now = now or timezone.now()
    with maintenance_held():  # never while a backup copies files (apps/maintenance/backups.py)
        return _pass(dry_run=dry_run, tables=tables, now=now)


def _pass(*, dry_run: bool, tables: list[str] | None, now: datetime) -> MaintenanceRun:
    run = MaintenanceRun.objects.create(dry_run=dry_run)
    keep = pinned_snapshot_ids()
    run.pinned_snapshots = len(keep)
    catalog = get_catalog()
    failed = False
    for identifier in tables if tables is not None else lakehouse_tables():
        started = time.monotonic()
        try:
            with transaction.atomic():
                advisory_xact_lock(
                    writer_lock_name(identifier),
                    timeout_seconds=settings.AURUM_LAKEHOUSE_LOCK_WAIT_SECONDS,
                )
                report = _table_maintain(catalog.load_table(identifier), now=now, keep=keep, dry_run=dry_run)
        except LockTimeoutError:
            report = {"skipped": "busy: its writers held the lock"}
        except Exception as exc:  # one table's failure must not stop the others'; reported and logged
            failed = True
            log.exception("lakehouse maintenance failed", table=identifier)
            report = {"error": f"{type(exc).__name__}: {exc}"}
        report["seconds"] = round(time.monotonic() - started, 3)
        run.tables[identifier] = report
        if not dry_run and "expired" in report:
            LAKEHOUSE_SNAPSHOTS_EXPIRED.inc(report["expired"])
            LAKEHOUSE_FILES_COMPACTED.inc(report["files_removed"])
            LAKEHOUSE_MANIFESTS_DROPPED.inc(report["manifests_dropped"])
            LAKEHOUSE_ORPHAN_FILES.inc(report["orphan_files"])
            LAKEHOUSE_ORPHAN_BYTES.inc(report["orphan_bytes"])
        LAKEHOUSE_MAINTENANCE_SECONDS.observe(report["seconds"])
    run.status = MaintenanceRun.Status.FAILED if failed else MaintenanceRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at", "pinned_snapshots", "tables"])
    log.info("lakehouse maintenance", run=run.pk, status=run.status, dry_run=dry_run, tables=len(run.tables))
    return run
