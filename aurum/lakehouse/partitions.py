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

``data_files_of`` is pyiceberg's ``_dataframe_to_data_files`` with a faster split into partitions: pyiceberg
filters the whole table once per partition value (an Acero filter each, and a group-by first: ~40 ms for a
153,000-row commit of scenario outputs in three partitions, under the commit's lock); here the rows' partition
codes are sorted once (stable), and each partition is the concatenation of its contiguous ranges of rows, or a
take when its rows are scattered. ``rows_append`` is ``Table.append`` on it (decision 0070).

``live_overwrite`` is the overwrite these commits (and compaction) use: pyiceberg's, less the manifests
left without a live file. pyiceberg carries a manifest that holds only DELETED entries (the files an earlier
overwrite removed) into every later snapshot, so each replace of a dataset's latest rows left one more
behind, and every plan of the table read them all: 102 such manifests for 2 live files after 104 days,
~60 ms a plan, several plans per ingest (issue 14, decision 0059). Java Iceberg drops them: a DELETED entry
only says what the snapshot that wrote it removed, and that snapshot keeps its own manifest list.
"""

from __future__ import annotations

import itertools
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from opentelemetry import trace
from opentelemetry.trace import Span
from pyiceberg.expressions import BooleanExpression, parser
from pyiceberg.expressions.visitors import _StrictMetricsEvaluator
from pyiceberg.io import FileIO
from pyiceberg.io.pyarrow import (
    PyArrowFileIO,
    _check_pyarrow_schema_compatible,
    _dataframe_to_data_files,
    _get_field_from_arrow_table,
    bin_pack_arrow_table,
    pyarrow_to_schema,
    write_file,
)
from pyiceberg.manifest import DataFile, ManifestFile
from pyiceberg.partitioning import PartitionFieldValue, PartitionKey, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import (
    DOWNCAST_NS_TIMESTAMP_TO_US_ON_WRITE,
    Table,
    TableProperties,
    Transaction,
    WriteTask,
)
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.snapshots import Operation
from pyiceberg.table.update.snapshot import _OverwriteFiles
from pyiceberg.utils.config import Config
from pyiceberg.utils.properties import property_as_int

# A partition whose rows lie in at most one contiguous range per this many rows is cut out as slices;
# otherwise with a take (which copies each row on its own).
_RANGE_ROWS = 64


def table_partitions(
    spec: PartitionSpec, schema: Schema, rows: pa.Table
) -> Iterator[tuple[PartitionKey, pa.Table]]:
    """The rows of each partition value of ``spec`` (as pyiceberg's ``_determine_partitions``: the partition
    key and the rows in their order in ``rows``, in fresh buffers), from one stable sort of the rows'
    partition codes instead of a filter of all rows per value."""
    if rows.num_rows == 0:
        return
    codes = np.zeros(rows.num_rows, dtype=np.int64)
    span = 1  # codes are below this
    keys: list[pa.Array] = []
    for field in spec.fields:
        source = schema.find_field(field.source_id)
        column = _get_field_from_arrow_table(rows, schema.find_column_name(field.source_id) or "")
        key = field.transform.pyarrow_transform(source.field_type)(column)
        key = key.combine_chunks() if isinstance(key, pa.ChunkedArray) else key
        encoded = pc.dictionary_encode(key, null_encoding="encode")
        values = max(len(encoded.dictionary), 1)
        if span * values >= 2**62:  # renumber the codes so far 0..k-1 (same order) before they overflow
            _, codes = np.unique(codes, return_inverse=True)
            span = int(codes.max()) + 1
        codes = codes * values + np.asarray(encoded.indices, dtype=np.int64)
        span *= values
        keys.append(key)
    order = np.argsort(codes, kind="stable")
    ordered_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, ordered_codes[1:] != ordered_codes[:-1]]).tolist()
    for start, stop in zip(starts, [*starts[1:], rows.num_rows], strict=True):
        indices = order[start:stop]
        first = int(indices[0])
        key = PartitionKey(
            field_values=[
                PartitionFieldValue(field=field, value=values[first].as_py())
                for field, values in zip(spec.fields, keys, strict=True)
            ],
            partition_spec=spec,
            schema=schema,
        )
        breaks = np.flatnonzero(np.diff(indices) != 1) + 1
        if (breaks.size + 1) * _RANGE_ROWS <= indices.size:
            bounds = zip([0, *breaks.tolist()], [*breaks.tolist(), indices.size], strict=True)
            part = pa.concat_tables([rows.slice(int(indices[a]), b - a) for a, b in bounds])
        else:
            part = rows.take(pa.array(indices))
        yield key, part.combine_chunks()


def data_files_of(
    table_metadata: TableMetadata, rows: pa.Table, io: FileIO, write_uuid: uuid.UUID
) -> Iterator[DataFile]:
    """pyiceberg's ``_dataframe_to_data_files`` for a ``pa.Table``, split into partitions by
    ``table_partitions`` (the same files: each partition's rows bin-packed to the table's target size)."""
    spec = table_metadata.spec()
    if spec.is_unpartitioned():
        yield from _dataframe_to_data_files(
            table_metadata=table_metadata, df=rows, io=io, write_uuid=write_uuid
        )
        return
    target_size = property_as_int(
        table_metadata.properties,
        TableProperties.WRITE_TARGET_FILE_SIZE_BYTES,
        TableProperties.WRITE_TARGET_FILE_SIZE_BYTES_DEFAULT,
    )
    task_schema = pyarrow_to_schema(
        rows.schema,
        name_mapping=table_metadata.schema().name_mapping,
        downcast_ns_timestamp_to_us=Config().get_bool(DOWNCAST_NS_TIMESTAMP_TO_US_ON_WRITE) or False,
        format_version=table_metadata.format_version,
    )
    counter = itertools.count(0)
    tasks = (
        WriteTask(
            write_uuid=write_uuid,
            task_id=next(counter),
            record_batches=batches,
            partition_key=key,
            schema=task_schema,
        )
        for key, part in table_partitions(spec, table_metadata.schema(), rows)
        for batches in bin_pack_arrow_table(part, target_size or 0)
    )
    yield from write_file(io=io, table_metadata=table_metadata, tasks=tasks)


@contextmanager
def commit_span(table: Table, operation: str, rows: pa.Table | None) -> Iterator[Span]:
    """The span around an Iceberg commit (``lakehouse.<operation>``, with the table, the rows when known,
    and the new snapshot's id): Aurum's own commits here, and pyiceberg's ``Table`` writes through
    aurum.observability.tracing's instrumentor."""
    attributes: dict[str, str | int] = {
        "db.system": "iceberg",
        "aurum.lakehouse.engine": "pyiceberg",
        "aurum.lakehouse.operation": operation,
        "aurum.lakehouse.table": ".".join(table.name()),
    }
    if rows is not None:
        attributes["aurum.lakehouse.rows"] = rows.num_rows
    with trace.get_tracer("aurum.lakehouse").start_as_current_span(
        f"lakehouse.{operation}", attributes=attributes
    ) as span:
        yield span
        snapshot = table.current_snapshot()
        if snapshot is not None:
            span.set_attribute("aurum.lakehouse.snapshot_id", snapshot.snapshot_id)


def rows_append(
    table: Table, rows: pa.Table, *, snapshot_properties: Mapping[str, str] | None = None
) -> Table:
    """``table.append(rows, snapshot_properties=…)`` (one APPEND snapshot, committed; a snapshot even for no
    rows), its data files written by ``data_files_of``; returns the table with the new metadata.
    CommitFailedException as pyiceberg's when another writer committed first."""
    with commit_span(table, "append", rows), table.transaction() as transaction:
        metadata = transaction.table_metadata
        _check_pyarrow_schema_compatible(
            metadata.schema(),
            provided_schema=rows.schema,
            downcast_ns_timestamp_to_us=Config().get_bool(DOWNCAST_NS_TIMESTAMP_TO_US_ON_WRITE) or False,
            format_version=metadata.format_version,
        )
        update = transaction.update_snapshot(snapshot_properties=dict(snapshot_properties or {}))
        with update.fast_append() as append:
            if rows.num_rows:
                for data_file in data_files_of(metadata, rows, table.io, append.commit_uuid):
                    append.append_data_file(data_file)
    return table


def data_files_write(table: Table, rows: pa.Table) -> list[DataFile]:
    """Write ``rows`` (already conformed to the table's schema) as the table's Parquet data files; nothing
    is committed. No files for no rows."""
    if rows.num_rows == 0:
        return []
    return list(data_files_of(table.metadata, rows, table.io, uuid.uuid4()))


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
    # Even with nothing to remove or add, a snapshot is committed: the writer's run records it as its own.
    with commit_span(table, "overwrite", rows), table.transaction() as transaction:
        with live_overwrite(table, transaction, properties) as overwrite:
            for task in tasks:
                overwrite.delete_data_file(task.file)
            for data_file in files:
                overwrite.append_data_file(data_file)
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
        files = list(data_files_of(metadata, rows, PyArrowFileIO(), uuid.uuid4()))
    return len(files)
