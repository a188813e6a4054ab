"""Lakehouse maintenance of one Iceberg table: snapshot expiry, compaction of small files, orphan cleanup.

Each step is a function of the table and what the caller says must be kept (decision 0038). The caller
holds the table's writer lock (``writer_lock_name``) in a transaction while a step runs, so no Aurum writer
commits in between: the current snapshot cannot change under an expiry, and no file written for a commit
in flight can look like an orphan to the cleanup (which also spares files younger than its cut-off, for a
writer that is not Aurum's).

- **Expiry** removes snapshots older than the retention from the metadata, except the current one and every
  snapshot in ``keep`` (the snapshots runs, valuations and lineage records are pinned to). It deletes no file.
- **Compaction** rewrites, per partition, the live data files smaller than ``small_file_bytes`` into as few
  files as the table's target size allows, when a partition has at least ``min_files`` of them. The rows are
  read at the current snapshot and written in the table's sort order; one overwrite commit deletes the old
  files and adds the new ones, so readers see the same rows before and after. Older snapshots still name the
  old files until they expire.
- **Manifest pruning** commits a snapshot that lists only the manifests with a live file, when the current
  one lists others (besides its own record of what it removed). pyiceberg's overwrite and delete carry every
  manifest of DELETED entries on into the next snapshot (its appends drop them), and each plan of the table
  reads them all. Aurum's own overwrites drop them as they go (``partitions.live_overwrite``, decision 0059);
  this step heals tables written before that, and tables with a run of deletes (scenario outputs) or without
  a later commit (the quarantine table, which an ingest with nothing quarantined leaves alone). The rows are
  unchanged; older snapshots keep their manifest lists.
- **Orphan cleanup** deletes data files and manifests (``*.avro``) under the table's location that no
  remaining snapshot references and that are older than the cut-off. Metadata JSON files are never removed
  (the catalog points to one; they are small).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.fs as pafs
from pyiceberg.expressions import AlwaysTrue
from pyiceberg.io.pyarrow import ArrowScan, _dataframe_to_data_files
from pyiceberg.manifest import DataFile, DataFileContent
from pyiceberg.table import FileScanTask, Table
from pyiceberg.typedef import Record

from aurum.lakehouse.locks import table_lock_name
from aurum.lakehouse.partitions import live_overwrite
from aurum.lakehouse.storage import filesystem_for
from aurum.lakehouse.tables import CURVE_LATEST, CURVE_QUARANTINE, CURVE_TABLES_LOCK

# Snapshot summary property of a compaction commit (Iceberg's "replace"; pyiceberg writes it as an overwrite).
COMPACTION_PROPERTY = "aurum.maintenance"
_CURVE_TABLES = {CURVE_LATEST, CURVE_QUARANTINE}


def writer_lock_name(identifier: str) -> str:
    """The advisory lock Aurum's writers of ``identifier`` hold while they commit (the three curve tables
    share the observation table's)."""
    if identifier in _CURVE_TABLES:
        return CURVE_TABLES_LOCK
    return table_lock_name(identifier)


@dataclass(frozen=True)
class Compaction:
    partitions: int
    files_removed: int
    files_added: int
    rows: int


@dataclass(frozen=True)
class OrphanCleanup:
    files: int
    bytes: int


def superseded_at(table: Table) -> dict[int, int]:
    """snapshot id -> when (ms) it stopped being the table's current snapshot, from the snapshot log; a
    snapshot that was never current counts from its own timestamp."""
    log = table.metadata.snapshot_log
    found = {s.snapshot_id: s.timestamp_ms for s in table.metadata.snapshots}
    for entry, following in zip(log, log[1:], strict=False):
        found[entry.snapshot_id] = following.timestamp_ms
    return found


def snapshots_expire(
    table: Table, *, older_than: datetime, keep: Collection[int], dry_run: bool = False
) -> list[int]:
    """Expire the snapshots superseded before ``older_than``, but the current one and those in ``keep``.

    Counting from when a snapshot stopped being current (not from when it was taken) means a snapshot a run
    pinned while it was current stays for the whole retention after a newer one replaced it, however old it
    was: the run's record is long committed (and in ``keep``) by the time it could go.
    Returns the expired snapshot ids (sorted).
    """
    table.refresh()
    current = table.current_snapshot()
    cutoff_ms = int(older_than.timestamp() * 1000)
    kept = set(keep) | ({current.snapshot_id} if current is not None else set())
    expired = sorted(
        snapshot_id
        for snapshot_id, until_ms in superseded_at(table).items()
        if until_ms < cutoff_ms and snapshot_id not in kept
    )
    if expired and not dry_run:
        table.maintenance.expire_snapshots().by_ids(expired).commit()
    return expired


def _live_data_files(table: Table) -> Iterator[DataFile]:
    snapshot = table.current_snapshot()
    if snapshot is None:
        return
    for manifest in snapshot.manifests(table.io):
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
            if entry.data_file.content == DataFileContent.DATA:
                yield entry.data_file


def _sorted(table: Table, rows: pa.Table) -> pa.Table:
    schema = table.schema()
    keys = [
        (
            schema.find_column_name(field.source_id),
            "descending" if field.direction.name == "DESC" else "ascending",
        )
        for field in table.sort_order().fields
    ]
    keys = [(name, order) for name, order in keys if name is not None]
    return rows.sort_by(keys) if keys and rows.num_rows else rows


def table_compact(
    table: Table, *, small_file_bytes: int, min_files: int, dry_run: bool = False
) -> Compaction:
    """Rewrite each partition's small live files into fewer files (see the module docstring); a dry run
    says which partitions and files it would rewrite (``files_added`` 0)."""
    table.refresh()
    groups: dict[tuple[int, Record], list[DataFile]] = defaultdict(list)
    for data_file in _live_data_files(table):
        if data_file.file_size_in_bytes < small_file_bytes:
            groups[(data_file.spec_id, data_file.partition)].append(data_file)
    chosen = [files for files in groups.values() if len(files) >= min_files]
    if not chosen:
        return Compaction(partitions=0, files_removed=0, files_added=0, rows=0)
    if dry_run:
        return Compaction(
            partitions=len(chosen),
            files_removed=sum(len(files) for files in chosen),
            files_added=0,
            rows=sum(f.record_count for files in chosen for f in files),
        )
    scan = ArrowScan(table.metadata, table.io, table.schema(), AlwaysTrue())
    removed = added = rows = 0
    with table.transaction() as txn:
        with live_overwrite(table, txn, {COMPACTION_PROPERTY: "compaction"}) as overwrite:
            for files in chosen:
                data = _sorted(table, scan.to_table([FileScanTask(f) for f in files]))
                expected = sum(f.record_count for f in files)
                if data.num_rows != expected:  # a delete file or a bad read: never rewrite on a guess
                    raise RuntimeError(
                        f"compaction of {table.name()}: read {data.num_rows} rows, the files hold {expected}"
                    )
                new_files = list(
                    _dataframe_to_data_files(
                        table_metadata=txn.table_metadata, df=data, io=table.io, write_uuid=uuid.uuid4()
                    )
                )
                for old in files:
                    overwrite.delete_data_file(old)
                for new in new_files:
                    overwrite.append_data_file(new)
                removed, added, rows = removed + len(files), added + len(new_files), rows + data.num_rows
    return Compaction(partitions=len(chosen), files_removed=removed, files_added=added, rows=rows)


def dead_manifests(table: Table) -> int:
    """How many manifests the current snapshot lists without a live file, its own removals not counted."""
    current = table.current_snapshot()
    if current is None:
        return 0
    return sum(
        1
        for manifest in current.manifests(table.io)
        if not (manifest.has_added_files() or manifest.has_existing_files())
        and manifest.added_snapshot_id != current.snapshot_id
    )


def manifests_prune(table: Table, *, dry_run: bool = False) -> int:
    """Drop the manifests without a live file from the current snapshot's list (see the module docstring):
    one snapshot adding and removing nothing, committed only if there are any. Returns how many it dropped
    (a dry run: would drop)."""
    table.refresh()
    dead = dead_manifests(table)
    if dead and not dry_run:
        with table.transaction() as txn:
            with live_overwrite(table, txn, {COMPACTION_PROPERTY: "manifests"}):
                pass  # nothing deleted, nothing added: only the manifest list changes
    return dead


def referenced_files(table: Table) -> set[str]:
    """Every data file, manifest and manifest list a remaining snapshot of ``table`` names (as paths)."""
    found: set[str] = set()
    seen_manifests: set[str] = set()
    for snapshot in table.metadata.snapshots:
        found.add(_path(snapshot.manifest_list))
        for manifest in snapshot.manifests(table.io):
            if manifest.manifest_path in seen_manifests:
                continue
            seen_manifests.add(manifest.manifest_path)
            found.add(_path(manifest.manifest_path))
            for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
                found.add(_path(entry.data_file.file_path))
    return found


def _path(location: str) -> str:
    parsed = urlparse(location)
    return parsed.path if parsed.scheme in ("", "file") else f"{parsed.netloc}{parsed.path}"


def orphan_files_remove(table: Table, *, older_than: datetime, dry_run: bool = False) -> OrphanCleanup:
    """Delete the table's files no remaining snapshot references, last modified before ``older_than``."""
    table.refresh()
    referenced = referenced_files(table)
    filesystem, root = filesystem_for(table.location())
    try:
        infos = filesystem.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
    except FileNotFoundError:
        return OrphanCleanup(files=0, bytes=0)
    cutoff_ns = int(older_than.timestamp() * 1_000_000_000)
    count = size = 0
    for info in infos:
        if info.type != pafs.FileType.File:
            continue
        relative = info.path[len(root) :].lstrip("/")
        removable = relative.startswith("data/") or (
            relative.startswith("metadata/") and relative.endswith(".avro")
        )
        if not removable or _path(info.path) in referenced or info.path in referenced:
            continue
        if info.mtime_ns is None or info.mtime_ns >= cutoff_ns:
            continue
        if not dry_run:
            filesystem.delete_file(info.path)
        count, size = count + 1, size + (info.size or 0)
    return OrphanCleanup(files=count, bytes=size)
