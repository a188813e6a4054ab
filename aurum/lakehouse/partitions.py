"""Replacing one partition of an Iceberg table in one snapshot, with its Parquet written before any lock.

pyiceberg's ``Table.overwrite(rows, overwrite_filter=...)`` commits two snapshots (a DELETE, then an APPEND),
writes the Parquet inside the caller's lock and recomputes the table's metadata many times on the way. For
the hot writers (an EOD slice, a dataset's latest rows) Aurum splits it in two (issue 14, decision 0048):

- ``data_files_write``: the rows as Parquet data files of the table (partitioned, with column statistics),
  before the writer takes its lock: no other writer waits for it;
- ``partition_replace``: under the lock, one OVERWRITE snapshot that removes the live files of the filtered
  partition and adds the new ones (readers see the old rows or the new, never neither).

A file is removed only when its column bounds prove that the filter holds for every row of it (pyiceberg's
strict metrics evaluation, the test its own delete uses) and it has no delete files; anything else (a
filter cutting through a file, say) falls back to pyiceberg's row-level overwrite, slower but exact.

``live_overwrite`` is the overwrite these commits (and compaction) use: pyiceberg's, less the manifests
left without a live file. pyiceberg carries a manifest that holds only DELETED entries (the files an earlier
overwrite removed) into every later snapshot, so each replace of a dataset's latest rows left one more
behind, and every plan of the table read them all: 102 such manifests for 2 live files after 104 days,
~60 ms a plan, several plans per ingest (issue 14, decision 0059). Java Iceberg drops them: a DELETED entry
only says what the snapshot that wrote it removed, and that snapshot keeps its own manifest list.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Mapping

import pyarrow as pa
from opentelemetry import trace
from pyiceberg.expressions import BooleanExpression, parser
from pyiceberg.expressions.visitors import _StrictMetricsEvaluator
from pyiceberg.io.pyarrow import PyArrowFileIO, _dataframe_to_data_files
from pyiceberg.manifest import DataFile, ManifestFile
from pyiceberg.table import Table, Transaction
from pyiceberg.table.snapshots import Operation
from pyiceberg.table.update.snapshot import _OverwriteFiles


def data_files_write(table: Table, rows: pa.Table) -> list[DataFile]:
    """Write ``rows`` (already conformed to the table's schema) as the table's Parquet data files; nothing
    is committed. No files for no rows."""
    if rows.num_rows == 0:
        return []
    return list(
        _dataframe_to_data_files(table_metadata=table.metadata, df=rows, io=table.io, write_uuid=uuid.uuid4())
    )


def data_files_discard(table: Table, files: list[DataFile]) -> None:
    """Delete written files that will never be committed (a superseded slice, a failed write)."""
    for data_file in files:
        try:
            table.io.delete(data_file.file_path)
        except FileNotFoundError:
            pass


def partition_replace(
    table: Table,
    *,
    row_filter: str | BooleanExpression,
    files: list[DataFile],
    rows: pa.Table,
    snapshot_properties: Mapping[str, str] | None = None,
    skip_no_op: bool = False,
) -> Table:
    """Replace every row matching ``row_filter`` by the rows of ``files`` in one snapshot; returns the table
    with the new metadata. ``rows`` are the same rows as ``files`` hold, used only by the fallback.

    With nothing to remove and nothing to add, a snapshot is still committed (a writer records it as its
    own), unless ``skip_no_op``: then nothing is (an ingest's empty quarantine, decision 0059).

    The caller holds the table's write lock and loaded ``table`` after taking it. ``files`` belong to the
    table once this is called: committed, or discarded if the fallback writes ``rows`` instead.
    """
    properties = dict(snapshot_properties or {})
    expression = parser.parse(row_filter) if isinstance(row_filter, str) else row_filter
    tasks = list(table.scan(row_filter=expression).plan_files())
    if skip_no_op and not tasks and not files:
        return table
    # The same test pyiceberg's own delete applies to drop a whole file: its column bounds prove that every
    # row matches (for a slice: one dataset and one as-of in the file).
    whole = _StrictMetricsEvaluator(table.schema(), expression).eval
    if any(task.delete_files or not whole(task.file) for task in tasks):
        data_files_discard(table, files)
        table.overwrite(rows, overwrite_filter=row_filter, snapshot_properties=properties)
        return table
    # The same span as pyiceberg's own commits get (aurum.observability.tracing): one trace shows the write.
    attributes = {
        "db.system": "iceberg",
        "aurum.lakehouse.engine": "pyiceberg",
        "aurum.lakehouse.operation": "overwrite",
        "aurum.lakehouse.table": ".".join(table.name()),
        "aurum.lakehouse.rows": rows.num_rows,
    }
    with trace.get_tracer("aurum.lakehouse").start_as_current_span(
        "lakehouse.overwrite", attributes=attributes
    ) as span:
        # Even with nothing to remove or add, a snapshot is committed: the writer's run records it as its own.
        with table.transaction() as transaction:
            with live_overwrite(table, transaction, properties) as overwrite:
                for task in tasks:
                    overwrite.delete_data_file(task.file)
                for data_file in files:
                    overwrite.append_data_file(data_file)
        snapshot = table.current_snapshot()
        if snapshot is not None:
            span.set_attribute("aurum.lakehouse.snapshot_id", snapshot.snapshot_id)
    return table


class _LiveOverwrite(_OverwriteFiles):
    """pyiceberg's OVERWRITE producer, whose new snapshot lists only manifests with a live file (added or
    existing); a manifest whose counts are unknown (None) is kept. The snapshot's own removals are still
    recorded (pyiceberg writes them in a new manifest of DELETED entries, dropped by the next commit)."""

    def _existing_manifests(self) -> list[ManifestFile]:
        return [m for m in super()._existing_manifests() if m.has_added_files() or m.has_existing_files()]


def live_overwrite(
    table: Table, transaction: Transaction, snapshot_properties: Mapping[str, str]
) -> _OverwriteFiles:
    """``transaction.update_snapshot(snapshot_properties=…).overwrite()`` on ``table``'s ``transaction``,
    dropping manifests without a live file (module docstring): delete and append data files on it, then
    leave its ``with`` block to commit."""
    metadata = transaction.table_metadata
    return _LiveOverwrite(
        operation=Operation.OVERWRITE if metadata.current_snapshot() is not None else Operation.APPEND,
        transaction=transaction,
        io=table.io,
        snapshot_properties=dict(snapshot_properties),
    )


def data_files_rehearse(table: Table, rows: pa.Table) -> int:
    """Write ``rows`` as ``data_files_write`` would write ``table``'s data files (partitioned Parquet with
    column statistics, the same writer and its thread pool) into a temporary folder on the local disk, removed
    at once: a start-up warm-up of the writer (aurum/warmup.py) that puts nothing in the warehouse. Returns
    how many files were written (none for no rows, as ``data_files_write``)."""
    if rows.num_rows == 0:
        return 0
    with tempfile.TemporaryDirectory(prefix="aurum-write-rehearsal-") as folder:
        metadata = table.metadata.model_copy(update={"location": folder})
        files = list(
            _dataframe_to_data_files(
                table_metadata=metadata, df=rows, io=PyArrowFileIO(), write_uuid=uuid.uuid4()
            )
        )
    return len(files)
