"""``manage.py backup_create --out DIR [--tenant SCHEMA]``: a backup of the platform or of one tenant."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.maintenance.backups import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back up the platform (Postgres dump, Iceberg catalog rows, warehouse files) or one tenant (its "
        "schema, its tables and their files) into a new folder, with a manifest of sha256s "
        "(docs/operations.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, type=Path, help="a new (or empty) folder")
        parser.add_argument("--tenant", dest="schema_name", help="only this tenant's schema and tables")

    def handle(self, *args: Any, out: Path, schema_name: str | None = None, **options: Any) -> None:
        started = time.monotonic()
        try:
            manifest = backup_create(out=out, schema_name=schema_name)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        size = sum(f["bytes"] for f in manifest["files"].values())
        self.stdout.write(
            f"{manifest['kind']} backup in {out}: {len(manifest['tables'])} tables, "
            f"{len(manifest['audit_heads'])} audit chains, {len(manifest['files'])} files, {size} bytes "
            f"[{time.monotonic() - started:.1f} s]"
        )
