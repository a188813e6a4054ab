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
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table


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
) -> Table:
    """Replace every row matching ``row_filter`` by the rows of ``files`` in one snapshot; returns the table
    with the new metadata. ``rows`` are the same rows as ``files`` hold, used only by the fallback.

    The caller holds the table's write lock and loaded ``table`` after taking it. ``files`` belong to the
    table once this is called: committed, or discarded if the fallback writes ``rows`` instead.
    """
    properties = dict(snapshot_properties or {})
    expression = parser.parse(row_filter) if isinstance(row_filter, str) else row_filter
    tasks = list(table.scan(row_filter=expression).plan_files())
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
            with transaction.update_snapshot(snapshot_properties=properties).overwrite() as overwrite:
                for task in tasks:
                    overwrite.delete_data_file(task.file)
                for data_file in files:
                    overwrite.append_data_file(data_file)
        snapshot = table.current_snapshot()
        if snapshot is not None:
            span.set_attribute("aurum.lakehouse.snapshot_id", snapshot.snapshot_id)
    return table


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
