"""``manage.py backup_restore --from DIR --yes``: restore a backup, then check the result against it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.maintenance.backups import BackupError, backup_read, backup_restore, backup_verify


class Command(BaseCommand):
    help = (
        "Restore a backup made by backup_create: a platform backup replaces the whole database (stop the "
        "web and worker processes first); a tenant backup replaces that tenant's schema and tables only. "
        "Then verify tables, files and audit chains against the backup's manifest. Exit status 1 if they "
        "differ."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="source", required=True, type=Path, help="the backup's folder")
        parser.add_argument("--yes", action="store_true", help="confirm: the current data is replaced")

    def handle(self, *args: Any, source: Path, yes: bool = False, **options: Any) -> None:
        try:
            manifest = backup_read(source)
            if not yes:
                what = (
                    "the whole database"
                    if manifest["kind"] == "platform"
                    else f"tenant {manifest['schema_name']}"
                )
                raise CommandError(
                    f"This replaces {what} with the backup of {manifest['created_at']}: add --yes."
                )
            started = time.monotonic()
            result = backup_restore(source=source)
            restored = time.monotonic() - started
            problems = backup_verify(source=source)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        verified = time.monotonic() - started
        self.stdout.write(
            f"restored {result['kind']} backup of {manifest['created_at']} in {restored:.1f} s "
            f"({result['warehouse_bytes_copied']} warehouse bytes copied); "
            f"verified in {verified - restored:.1f} s"
        )
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} difference(s) from the backup", returncode=1)
        self.stdout.write(
            f"{len(manifest['tables'])} tables at their backed-up snapshots with every file present; "
            f"{len(manifest['audit_heads'])} audit chains intact at their backed-up heads"
        )
