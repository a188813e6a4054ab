"""Backup and restore of the platform or of one tenant: a Postgres dump and the warehouse files it names.

A backup is a folder: ``postgres.dump`` (``pg_dump -Fc``; of the tenant's schema only for a tenant),
``catalog.json`` (the Iceberg SQL catalog's rows of the tables in scope), ``warehouse/`` (the files of those
tables, and for the platform the raw workbooks too) and ``manifest.json`` (what it holds, each file's
sha256, and the facts a restore is checked against: each table's current snapshot and row count, each
tenant's audit chain head). Decision 0039.

Consistency: the dump runs on a Postgres snapshot exported from a repeatable-read transaction, and the
catalog rows and audit heads are read in that same transaction, so the manifest describes exactly what the
dump holds. The warehouse is copied after it: Iceberg files are immutable and a commit adds new ones, so every
file the dumped catalog names is still there (files added meanwhile are orphans after a restore, removed by
maintenance). Lakehouse maintenance, the one thing that deletes files, is held off for the backup's length.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pyarrow.fs as pafs
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context
from psycopg import sql
from pyiceberg.table import StaticTable

from apps.audit.models import AuditEntry
from apps.audit.verification import audit_chain_verify
from aurum.lakehouse.catalog import get_catalog
from aurum.lakehouse.locks import advisory_lock_key
from aurum.lakehouse.maintenance import referenced_files
from aurum.lakehouse.storage import filesystem_for, iceberg_io_properties
from tenants.models import Tenant

FORMAT = "aurum-backup/1"
MAINTENANCE_LOCK = "lakehouse:maintenance"
_CATALOG_COLUMNS = ("table_namespace", "table_name", "metadata_location", "previous_metadata_location")


class BackupError(Exception):
    """A backup or restore refused or failed; the message says why and what to do."""


@dataclass(frozen=True)
class Scope:
    schema_name: str | None  # None: the whole platform

    @property
    def namespace(self) -> str | None:
        return f"t_{self.schema_name}" if self.schema_name else None


# --- Postgres -----------------------------------------------------------------------------------------------


def _pg_env(database: str | None = None) -> dict[str, str]:
    """libpq's environment for the pg tools (the password never on a command line)."""
    db = settings.DATABASES["default"]
    env = {
        "PGHOST": str(db.get("HOST") or "127.0.0.1"),
        "PGPORT": str(db.get("PORT") or 5432),
        "PGUSER": str(db.get("USER") or "postgres"),
        "PGDATABASE": database or str(db["NAME"]),
    }
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return {**os.environ, **env}


def _pg_tool(name: str) -> str:
    """A Postgres client program: on PATH, or in Debian's versioned folder (newest first)."""
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: -int(p.parent.name)):
        if (folder / name).exists():
            return str(folder / name)
    raise BackupError(f"'{name}' not found: install the PostgreSQL client (postgresql-client).")


def _run(command: list[str], *, env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip() or done.stdout.strip()}")


def _connect(database: str | None = None) -> psycopg.Connection[Any]:
    env = _pg_env(database)
    return psycopg.connect(
        host=env["PGHOST"],
        port=env["PGPORT"],
        user=env["PGUSER"],
        password=env.get("PGPASSWORD"),
        dbname=env["PGDATABASE"],
    )


@contextmanager
def maintenance_held() -> Iterator[None]:
    """Hold off lakehouse maintenance (a session lock its passes take too) while files are copied."""
    with _connect() as conn:
        conn.autocommit = True
        key = advisory_lock_key(MAINTENANCE_LOCK)
        conn.execute("SELECT pg_advisory_lock(%s)", [key])
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", [key])


# --- what a backup describes --------------------------------------------------------------------------------


def _catalog_rows(cursor: psycopg.Cursor[Any], scope: Scope) -> list[dict[str, str | None]]:
    query = (
        "SELECT table_namespace, table_name, metadata_location, previous_metadata_location "
        "FROM iceberg_tables WHERE catalog_name = %s"
    )
    params: list[str] = [settings.AURUM_ICEBERG_CATALOG]
    if scope.namespace:
        query += " AND table_namespace = %s"
        params.append(scope.namespace)
    cursor.execute(query + " ORDER BY table_namespace, table_name", params)
    return [dict(zip(_CATALOG_COLUMNS, row, strict=True)) for row in cursor.fetchall()]


def _audit_heads(cursor: psycopg.Cursor[Any], schemas: list[str]) -> dict[str, dict[str, Any]]:
    heads: dict[str, dict[str, Any]] = {}
    for schema in schemas:
        cursor.execute(
            sql.SQL("SELECT sequence, hash FROM {}.{} ORDER BY sequence DESC LIMIT 1").format(
                sql.Identifier(schema), sql.Identifier(AuditEntry._meta.db_table)
            )
        )
        row = cursor.fetchone()
        heads[schema] = {"sequence": row[0], "hash": row[1]} if row else {"sequence": 0, "hash": None}
    return heads


def _table_facts(metadata_location: str) -> dict[str, Any]:
    table = StaticTable.from_metadata(metadata_location, properties=iceberg_io_properties())
    snapshot = table.current_snapshot()
    summary = snapshot.summary if snapshot is not None else None
    total = summary.get("total-records") if summary is not None else None
    rows = int(total) if total is not None else 0
    return {
        "snapshot_id": snapshot.snapshot_id if snapshot is not None else None,
        "rows": rows,
        "location": table.location(),
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- create -------------------------------------------------------------------------------------------------


def _warehouse_root() -> tuple[pafs.FileSystem, str]:
    filesystem, root = filesystem_for(settings.AURUM_WAREHOUSE)
    return filesystem, root.rstrip("/")


def _copy_tree(
    source_fs: pafs.FileSystem, source: str, target_fs: pafs.FileSystem, target: str, *, only_missing: bool
) -> int:
    """Copy every file under ``source`` to ``target`` (same relative paths); returns the bytes copied."""
    copied = 0
    selector = pafs.FileSelector(source, recursive=True, allow_not_found=True)
    for info in source_fs.get_file_info(selector):
        if info.type != pafs.FileType.File:
            continue
        destination = target + info.path[len(source) :]
        if only_missing and target_fs.get_file_info(destination).type == pafs.FileType.File:
            continue
        target_fs.create_dir(destination.rpartition("/")[0], recursive=True)
        pafs.copy_files(info.path, destination, source_filesystem=source_fs, destination_filesystem=target_fs)
        copied += info.size or 0
    return copied


def backup_create(*, out: Path, schema_name: str | None = None) -> dict[str, Any]:
    """Write a backup of the platform (or of the tenant ``schema_name``) into the new folder ``out``."""
    scope = Scope(schema_name)
    if schema_name is not None and not Tenant.objects.filter(schema_name=schema_name).exists():
        raise BackupError(f"No tenant with the schema '{schema_name}'.")
    if out.exists() and any(out.iterdir()):
        raise BackupError(f"{out} is not empty: a backup goes into a new folder.")
    out.mkdir(parents=True, exist_ok=True)
    schemas = (
        [schema_name]
        if schema_name
        else list(
            Tenant.objects.exclude(schema_name="public")
            .order_by("schema_name")
            .values_list("schema_name", flat=True)
        )
    )
    started = timezone.now()
    with maintenance_held(), _connect() as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            row = cursor.fetchone()
            assert row is not None
            snapshot = str(row[0])
            catalog = _catalog_rows(cursor, scope)
            heads = _audit_heads(cursor, schemas)
            dump = [_pg_tool("pg_dump"), "-Fc", f"--snapshot={snapshot}", "-f", str(out / "postgres.dump")]
            if schema_name:
                dump += ["-n", schema_name]
            _run(dump, env=_pg_env())
        conn.rollback()
        tables = {
            f"{r['table_namespace']}.{r['table_name']}": _table_facts(str(r["metadata_location"]))
            for r in catalog
        }
        source_fs, root = _warehouse_root()
        target_fs, target = pafs.LocalFileSystem(), str((out / "warehouse").resolve())
        folders = [t["location"] for t in tables.values()] if schema_name else [settings.AURUM_WAREHOUSE]
        copied = 0
        for folder in folders:
            folder_fs, folder_path = filesystem_for(folder)
            copied += _copy_tree(
                folder_fs,
                folder_path.rstrip("/"),
                target_fs,
                target + folder_path.rstrip("/")[len(root) :],
                only_missing=False,
            )
    (out / "catalog.json").write_text(json.dumps(catalog, indent=1))
    files = {
        str(p.relative_to(out)): {"sha256": _sha256(p), "bytes": p.stat().st_size}
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }
    manifest = {
        "format": FORMAT,
        "kind": "tenant" if schema_name else "platform",
        "schema_name": schema_name,
        "created_at": started.isoformat(),
        "database": settings.DATABASES["default"]["NAME"],
        "warehouse": settings.AURUM_WAREHOUSE,
        "catalog": settings.AURUM_ICEBERG_CATALOG,
        "tables": tables,
        "audit_heads": heads,
        "warehouse_bytes": copied,
        "files": files,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return manifest


# --- restore ------------------------------------------------------------------------------------------------


def backup_read(source: Path) -> dict[str, Any]:
    """The backup's manifest, after checking every file against its sha256."""
    try:
        manifest: dict[str, Any] = json.loads((source / "manifest.json").read_text())
    except FileNotFoundError as exc:
        raise BackupError(f"{source} holds no manifest.json: not an Aurum backup.") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r} (this Aurum reads {FORMAT}).")
    for name, expected in manifest["files"].items():
        path = source / name
        if not path.is_file():
            raise BackupError(f"The backup lacks {name}: it is incomplete.")
        if _sha256(path) != expected["sha256"]:
            raise BackupError(f"{name} does not match its sha256 in the manifest: the backup is damaged.")
    if manifest["warehouse"] != settings.AURUM_WAREHOUSE:
        raise BackupError(
            f"The backup is of the warehouse {manifest['warehouse']}, this deployment's is "
            f"{settings.AURUM_WAREHOUSE}: Iceberg metadata names its files by absolute location."
        )
    return manifest


def _database_recreate(name: str) -> None:
    connection.close()
    with _connect("postgres") as admin:
        admin.autocommit = True
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def backup_restore(*, source: Path) -> dict[str, Any]:
    """Restore a backup made by ``backup_create`` over this deployment (the platform's database is replaced;
    a tenant's schema and tables are replaced, the rest of the platform untouched)."""
    manifest = backup_read(source)
    schema_name = manifest["schema_name"]
    database = str(settings.DATABASES["default"]["NAME"])
    restore = [_pg_tool("pg_restore"), "--no-owner", "-d", database, str(source / "postgres.dump")]
    if schema_name is None:
        _database_recreate(database)
        _run(restore, env=_pg_env())
    else:
        if not Tenant.objects.filter(schema_name=schema_name).exists():
            raise BackupError(
                f"The tenant '{schema_name}' does not exist here: restore a platform backup, or create the "
                "tenant again, before restoring its own backup."
            )
        connection.close()
        with _connect() as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema_name)))
        _run(restore, env=_pg_env())
        catalog = json.loads((source / "catalog.json").read_text())
        with _connect() as conn:
            conn.execute(
                "DELETE FROM iceberg_tables WHERE catalog_name = %s AND table_namespace = %s",
                [manifest["catalog"], f"t_{schema_name}"],
            )
            for row in catalog:
                conn.execute(
                    "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name,"
                    " metadata_location, previous_metadata_location) VALUES (%s, %s, %s, %s, %s)",
                    [manifest["catalog"], *(row[c] for c in _CATALOG_COLUMNS)],
                )
    target_fs, root = _warehouse_root()
    copied = _copy_tree(
        pafs.LocalFileSystem(), str((source / "warehouse").resolve()), target_fs, root, only_missing=True
    )
    return {"kind": manifest["kind"], "schema_name": schema_name, "warehouse_bytes_copied": copied}


# --- verify -------------------------------------------------------------------------------------------------


def backup_verify(*, source: Path) -> list[str]:
    """What differs between this deployment and the backup's facts (empty: they agree): each table's current
    snapshot and row count, every file its snapshots name present, each tenant's audit chain intact with the
    head the backup recorded."""
    manifest = json.loads((source / "manifest.json").read_text())
    problems: list[str] = []
    catalog = get_catalog()
    for identifier, facts in manifest["tables"].items():
        table = catalog.load_table(identifier)
        now = _table_facts(table.metadata_location)
        if now["snapshot_id"] != facts["snapshot_id"] or now["rows"] != facts["rows"]:
            problems.append(
                f"{identifier}: snapshot {now['snapshot_id']} with {now['rows']} rows, the backup had "
                f"{facts['snapshot_id']} with {facts['rows']}"
            )
        filesystem, _ = filesystem_for(table.location())
        missing = [
            p for p in referenced_files(table) if filesystem.get_file_info(p).type != pafs.FileType.File
        ]
        if missing:
            problems.append(
                f"{identifier}: {len(missing)} files its snapshots name are missing, e.g. {missing[0]}"
            )
    for schema, head in manifest["audit_heads"].items():
        with schema_context(schema):
            report = audit_chain_verify()
        if not report.ok:
            problems.append(
                f"{schema}: audit chain broken at sequence {report.bad_sequence}: {report.reason}"
            )
        elif report.head_sequence != head["sequence"] or (head["hash"] and report.head_hash != head["hash"]):
            problems.append(
                f"{schema}: audit head is {report.head_sequence} {report.head_hash}, the backup had "
                f"{head['sequence']} {head['hash']}"
            )
    return problems
