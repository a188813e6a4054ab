"""``manage.py lakehouse_maintain [--dry-run] [--table ID ...]``: one maintenance pass, reported per table."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.maintenance.services import lakehouse_maintain, lakehouse_tables


class Command(BaseCommand):
    help = (
        "Expire old snapshots (keeping every pinned one), compact small files, drop manifests without a live "
        "file and remove orphan files of every Iceberg table (or the ones named). Exit status 1 when a "
        "table's step failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="say what would be done, change nothing")
        parser.add_argument("--table", action="append", dest="tables", help="namespace.table (repeatable)")

    def handle(
        self, *args: Any, dry_run: bool = False, tables: list[str] | None = None, **options: Any
    ) -> None:
        if tables:
            unknown = sorted(set(tables) - set(lakehouse_tables()))
            if unknown:
                raise CommandError(f"No such table: {', '.join(unknown)}")
        run = lakehouse_maintain(dry_run=dry_run, tables=tables)
        verb = "would" if dry_run else "did"
        for identifier, report in run.tables.items():
            if "expired" in report:
                self.stdout.write(
                    f"{identifier}: {verb} expire {report['expired']} snapshots, compact "
                    f"{report['files_removed']} files in {report['compacted_partitions']} partitions into "
                    f"{report['files_added']}, drop {report['manifests_dropped']} manifests without a "
                    f"live file, remove {report['orphan_files']} orphan files "
                    f"({report['orphan_bytes']} bytes) [{report['seconds']} s]"
                )
            else:
                self.stderr.write(f"{identifier}: {report.get('skipped') or report.get('error')}")
        self.stdout.write(f"{run.pinned_snapshots} pinned snapshots kept; run {run.pk}: {run.status}")
        if run.status == run.Status.FAILED:
            raise CommandError("lakehouse maintenance failed for at least one table", returncode=1)
