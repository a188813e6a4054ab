"""Publishing a run's (dataset, as-of) slice under the ordering rule of decision 0013.

For one (dataset, as-of) the workbook with the latest file stamp, then the later upload, owns the slice,
whatever order the runs finish in. The owner is the run whose id the published rows carry. The comparison and
the write happen under the curve tables' lock, so of two runs racing for one day exactly one is the owner
when both are done, and a run that finds a later workbook already published changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.compute as pc
from django.db import transaction
from django.utils import timezone
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table

from apps.ingestion.models import IngestRun
from apps.ingestion.parsers.strips import derived_strips
from aurum.lakehouse.latest import (
    PreparedLatest,
    curve_latest_discard,
    curve_latest_merge,
    curve_latest_prepare,
)
from aurum.lakehouse.locks import advisory_xact_lock
from aurum.lakehouse.partitions import data_files_discard, data_files_write, partition_replace
from aurum.lakehouse.tables import (
    CURVE_OBSERVATION,
    CURVE_OBSERVATION_ARROW,
    CURVE_QUARANTINE,
    CURVE_QUARANTINE_ARROW,
    CURVE_TABLES_LOCK,
    SORT_COLUMNS,
    curve_observation_table,
    curve_quarantine_table,
    slice_filter,
)

_NO_STAMP = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class SliceWritten:
    snapshot_id: int
    replaced: IngestRun | None  # the run that owned the slice before, if it is still on record


@dataclass(frozen=True)
class SliceKept:
    owner: IngestRun  # owns the slice with a later workbook: the run being published is superseded


def run_order(run: IngestRun) -> tuple[bool, datetime, int]:
    """Sort key of the workbooks for one slice: a stamped file after an unstamped one, then by stamp, then
    by upload (the run's id grows with each upload)."""
    return (run.file_stamp is not None, run.file_stamp or _NO_STAMP, run.pk)


def slice_owner_id(*, dataset: str, asof: date, tables: tuple[Table, Table] | None = None) -> int | None:
    """The id of the run whose rows the published (dataset, as-of) slice carries; None if none is.

    A slice whose every row was quarantined is owned through the quarantine table. ``tables`` are the
    observation and quarantine tables when the caller has just loaded them.
    """
    for table in tables or (curve_observation_table(), curve_quarantine_table()):
        rows = table.scan(
            row_filter=slice_filter(dataset, asof), selected_fields=("ingest_run_id",), limit=1
        ).to_arrow()
        if rows.num_rows:
            return int(rows.column("ingest_run_id")[0].as_py())
    return None


def run_owns_its_slice(run: IngestRun) -> bool:
    """True when the lakehouse already serves this run's rows for its (dataset, as-of)."""
    if not run.dataset or run.asof_date is None:
        return False
    return slice_owner_id(dataset=run.dataset, asof=run.asof_date) == run.pk


def slice_publish(
    *,
    run: IngestRun,
    published: pa.Table,
    quarantined: pa.Table,
    after_write: Callable[[IngestRun], None] | None = None,
) -> SliceWritten | SliceKept:
    """Replace the run's slice in the observation and quarantine tables (``published`` and ``quarantined``
    as ``published_rows`` and ``quarantined_rows`` make them) and merge it into the latest
    table, unless a later workbook owns the slice. The run itself may own it already (a retry after a
    failure past the commit): it then writes the same rows again.

    ``after_write`` runs right after the observation table's commit, before the latest table's: tests use it
    to fail at the worst moment.
    """
    assert run.asof_date is not None
    where = slice_filter(run.dataset, run.asof_date)
    observations, quarantine = curve_observation_table(), curve_quarantine_table()
    staged: dict[str, list[DataFile]] = {}
    prepared: PreparedLatest | None = None
    try:
        # Parquet first, outside the lock: a run for another dataset commits meanwhile (decision 0048). The
        # slice's files are written on a second thread while this one merges the dataset's latest rows and
        # writes them too (Arrow and Parquet release the GIL; decision 0059).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="aurum-slice-write") as pool:
            observation_files = pool.submit(data_files_write, observations, published)
            try:
                staged[CURVE_QUARANTINE] = data_files_write(quarantine, quarantined)
                prepared = curve_latest_prepare(run.dataset, published)
            finally:
                staged[CURVE_OBSERVATION] = observation_files.result()
        with transaction.atomic():
            advisory_xact_lock(CURVE_TABLES_LOCK)
            observations, quarantine = observations.refresh(), quarantine.refresh()
            owner_id = slice_owner_id(
                dataset=run.dataset, asof=run.asof_date, tables=(observations, quarantine)
            )
            owner = None if owner_id in (None, run.pk) else IngestRun.objects.filter(pk=owner_id).first()
            if owner is not None and run_order(owner) > run_order(run):
                return SliceKept(owner=owner)
            # No quarantined rows now nor before for this slice: nothing to commit (most ingests).
            partition_replace(
                quarantine,
                row_filter=where,
                files=staged.pop(CURVE_QUARANTINE),
                rows=quarantined,
                skip_no_op=True,
            )
            partition_replace(
                observations, row_filter=where, files=staged.pop(CURVE_OBSERVATION), rows=published
            )
            snapshot = observations.current_snapshot()  # the commit updated the table object
            if after_write is not None:
                after_write(run)
            # Same lock: the latest rows are derived from the vintages, so they must see writes in order. The
            # prepared rows are committed if no other writer changed the dataset's latest rows since.
            taken, prepared = prepared, None
            curve_latest_merge(run.dataset, published, prepared=taken)
    finally:  # files no commit took (superseded, or an error before their commit)
        data_files_discard(observations, staged.get(CURVE_OBSERVATION, []))
        data_files_discard(quarantine, staged.get(CURVE_QUARANTINE, []))
        if prepared is not None:
            curve_latest_discard(prepared)
    assert snapshot is not None
    return SliceWritten(snapshot_id=int(snapshot.snapshot_id), replaced=owner)


def published_rows(clean: pa.Table, strips: pa.Table, run: IngestRun) -> pa.Table:
    """The rows the observation table gets: clean rows and derived strips, with lineage, in sort order."""
    both = pa.concat_tables([clean, strips], promote_options="permissive") if strips.num_rows else clean
    table = _with_lineage(both, run, CURVE_OBSERVATION_ARROW)
    return table.sort_by([(name, "ascending") for name in SORT_COLUMNS])


def released_slice_rows(*, current: pa.Table, released: pa.Table, loaded_at: datetime) -> pa.Table:
    """A slice's rows once ``released`` (quarantined rows of its run, as the observation table takes them)
    are published: the ``current`` rows, the released ones, and the derived strips of the released rows'
    curves derived again, as the ingest derives them (``derived_strips`` over the curve's quoted rows, now
    with the released months), in place of the strips the ingest derived without them. The strips keep the
    ingest's lineage (the run's id, their version hash) and are loaded at ``loaded_at``, the release's time.
    """
    current = current.select(CURVE_OBSERVATION_ARROW.names).cast(CURVE_OBSERVATION_ARROW)
    touched = pc.unique(released.column("curve_key"))

    def of_touched(rows: pa.Table) -> pa.Array:
        return pc.fill_null(pc.is_in(rows.column("curve_key"), touched), False)

    derived = pc.fill_null(current.column("is_derived"), False)
    kept = current.filter(pc.invert(pc.and_(of_touched(current), derived)))
    quoted = pa.concat_tables([kept.filter(of_touched(kept)), released.cast(CURVE_OBSERVATION_ARROW)])
    # A period's first month in the workbook's order is the template of its strip (``derived_strips``): the
    # months of a curve are listed in calendar order, so sort them so.
    quoted = quoted.sort_by([("curve_key", "ascending"), ("contract_month", "ascending")])
    strips = derived_strips(quoted)
    strips = strips.set_column(
        strips.schema.get_field_index("_ingest_ts"),
        "_ingest_ts",
        pa.array([loaded_at] * strips.num_rows, pa.timestamp("us", tz="UTC")),
    )
    rows = pa.concat_tables(
        [kept, released.cast(CURVE_OBSERVATION_ARROW), strips.cast(CURVE_OBSERVATION_ARROW)]
    )
    return rows.sort_by([(name, "ascending") for name in SORT_COLUMNS])


def quarantined_rows(quarantined: pa.Table, run: IngestRun) -> pa.Table:
    return _with_lineage(quarantined, run, CURVE_QUARANTINE_ARROW)


def _with_lineage(table: pa.Table, run: IngestRun, schema: pa.Schema) -> pa.Table:
    """Stamp load time, dataset and run id on every row and conform to the Iceberg table's schema."""
    n = table.num_rows
    stamped = {
        "_ingest_ts": pa.array([timezone.now()] * n, pa.timestamp("us", tz="UTC")),
        "dataset": pa.array([run.dataset] * n, pa.string()),
        "ingest_run_id": pa.array([run.pk] * n, pa.int64()),
    }
    columns = [
        stamped[f.name]
        if f.name in stamped
        else table.column(f.name).cast(f.type)
        if f.name in table.column_names
        else pa.nulls(n, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)
