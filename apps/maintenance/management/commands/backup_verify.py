"""``manage.py backup_verify --from DIR``: does this deployment agree with a backup's facts?"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.maintenance.backups import BackupError, backup_read, backup_verify


class Command(BaseCommand):
    help = "Check a backup's files against their sha256s, and this deployment against the backup's facts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="source", required=True, type=Path, help="the backup's folder")

    def handle(self, *args: Any, source: Path, **options: Any) -> None:
        try:
            manifest = backup_read(source)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        problems = backup_verify(source=source)
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} difference(s) from the backup", returncode=1)
        self.stdout.write(
            f"backup intact; {len(manifest['tables'])} tables and "
            f"{len(manifest['audit_heads'])} audit chains agree"
        )
