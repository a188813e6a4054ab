"""``market.curve_latest``: the latest row per (curve_key, tenor_label), kept up to date at ingest.

"Latest" is the hot read (a trader opening a curve). Over ``market.curve_observation`` it must open one file
per as-of day of the dataset (52 files, ~640 ms measured); over this table it opens one file per dataset.

The table has ``curve_observation``'s schema and holds, per dataset, exactly the rows the ranking
``curves_latest`` applies would pick (greatest asof_date, then greatest _ingest_ts, then dataset and
price_type; ``curve_latest_rank`` applies that order in Arrow), so every latest read gives the same
answer on either table (tested). It is partitioned by dataset; each dataset's partition is replaced
atomically (one snapshot, ``aurum.lakehouse.partitions``) by the ingest that changes it:

- a new day, or a back-filled older day that is not yet in the latest rows: merge the slice into the
  dataset's current latest rows (cheap: two small inputs);
- a corrected re-load of a day that latest rows come from: the corrected file may drop a tenor whose
  earlier vintage must then reappear, so the dataset's latest is recomputed from every vintage.

An ingest prepares the merge before it takes the curve tables' lock (``curve_latest_prepare``: read, rank,
write the Parquet, beside the slice's own Parquet write) and commits it under the lock only if the dataset's
latest files are still the ones it read (``curve_latest_merge(prepared=…)``); otherwise it merges again
under the lock. The answer is the same either way; an ingest held the lock 76–118 ms instead of 252–376 ms
(measured, decision 0059).

``curve_latest_rebuild`` recomputes any dataset from scratch (repair, or a warehouse written before this
table existed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.expressions import BooleanExpression, EqualTo
from pyiceberg.io.pyarrow import ArrowScan
from pyiceberg.manifest import DataFile
from pyiceberg.table import FileScanTask, Table

from aurum.lakehouse.partitions import data_files_discard, data_files_write, partition_replace
from aurum.lakehouse.tables import (
    CURVE_OBSERVATION_ARROW,
    curve_latest_table,
    curve_observation_table,
)


def _dataset_filter(dataset: str) -> BooleanExpression:
    # pyiceberg predicates are pydantic models; (term, value) is their documented positional constructor.
    return cast(BooleanExpression, cast(Any, EqualTo)("dataset", dataset))


# The ranking of ``queries.curves_latest`` (its ROW_NUMBER window): per (curve_key, tenor_label), the greatest
# asof_date, then the greatest _ingest_ts, then dataset and price_type; nulls last, as the SQL orders them.
_RANK_ORDER = [
    ("curve_key", "ascending"),
    ("tenor_label", "ascending"),
    ("asof_date", "descending"),
    ("_ingest_ts", "descending"),
    ("dataset", "ascending"),
    ("price_type", "ascending"),
]


def curve_latest_rank(rows: pa.Table, dataset: str) -> pa.Table:
    """The rows ``curves_latest`` would pick from ``rows`` for ``dataset``, ordered by curve and tenor.

    In Arrow rather than the SQL over a registered table (issue 14): a sort and a first-of-group mask cost
    ~20 ms for a dataset's 50,000 rows, the DuckDB query ~10 times that. The answers are the same (tested
    against ``curves_latest`` over the vintages).
    """
    mine = pc.equal(rows.column("dataset"), dataset)
    if pc.all(mine, skip_nulls=False).as_py() is not True:  # filtering copies every column: ~10-30 ms
        rows = rows.filter(mine)
    if rows.num_rows == 0:
        return rows.select(CURVE_OBSERVATION_ARROW.names).cast(CURVE_OBSERVATION_ARROW)
    # Sort indices over the ranking columns only, then take the chosen rows of every column once.
    order = pc.sort_indices(
        rows.select([name for name, _ in _RANK_ORDER]),
        options=pc.SortOptions(sort_keys=[(name, direction, "at_end") for name, direction in _RANK_ORDER]),
    )
    keys = rows.select(["curve_key", "tenor_label"]).take(order)
    first = pa.concat_arrays([pa.array([True]), _key_changes(keys)])
    ranked = rows.take(order.filter(first))
    return ranked.select(CURVE_OBSERVATION_ARROW.names).cast(CURVE_OBSERVATION_ARROW)


def _key_changes(ordered: pa.Table) -> pa.Array:
    """For rows 1..n-1: does (curve_key, tenor_label) differ from the row before (two nulls are equal)?"""
    changed = None
    for name in ("curve_key", "tenor_label"):
        values = ordered.column(name).combine_chunks()
        current, previous = values[1:], values[:-1]
        both_null = pc.and_(pc.is_null(current), pc.is_null(previous))
        differs = pc.if_else(both_null, False, pc.fill_null(pc.not_equal(current, previous), True))
        changed = differs if changed is None else pc.or_(changed, differs)
    assert changed is not None
    return changed


def curve_latest_rebuild(dataset: str) -> int:
    """Recompute one dataset's latest rows from every vintage. Returns the row count written.

    The caller holds the curve tables' write lock (ingestion does) or accepts a race with an ingest.
    """
    rows = curve_observation_table().scan(row_filter=_dataset_filter(dataset)).to_arrow()
    latest = curve_latest_rank(rows, dataset)
    _dataset_replace(curve_latest_table(), dataset, latest)
    return latest.num_rows


@dataclass(frozen=True)
class PreparedLatest:
    """A dataset's next latest rows, merged and written as Parquet before the writer took the curve tables'
    lock (``curve_latest_prepare``), and what they were computed from."""

    dataset: str
    basis: tuple[Any, ...]  # the table's schema and spec ids, and the dataset's data and delete files
    files: list[DataFile]
    rows: pa.Table


def _basis(table: Table, tasks: list[FileScanTask]) -> tuple[Any, ...]:
    files = frozenset(task.file.file_path for task in tasks)
    deletes = frozenset(d.file_path for task in tasks for d in task.delete_files)
    return (table.metadata.current_schema_id, table.metadata.default_spec_id, files, deletes)


def _plan(table: Table, dataset: str) -> list[FileScanTask]:
    return list(table.scan(row_filter=_dataset_filter(dataset)).plan_files())


def _rows(table: Table, dataset: str, tasks: list[FileScanTask]) -> pa.Table:
    return ArrowScan(table.metadata, table.io, table.schema(), _dataset_filter(dataset)).to_table(tasks)


def _merged(current: pa.Table, dataset: str, published: pa.Table) -> pa.Table | None:
    """The latest rows after ``published`` (one as-of slice) joins ``current``; None when ``published``
    replaces a day the current rows come from (the dataset must be rebuilt from every vintage)."""
    asofs = pc.unique(published.column("asof_date")).to_pylist()
    replaced = current.num_rows and pc.any(pc.is_in(current.column("asof_date"), pa.array(asofs))).as_py()
    if replaced:
        return None
    merged = pa.concat_tables(
        [current.cast(CURVE_OBSERVATION_ARROW), published.cast(CURVE_OBSERVATION_ARROW)]
    )
    return curve_latest_rank(merged, dataset)


def curve_latest_prepare(dataset: str, published: pa.Table) -> PreparedLatest | None:
    """Merge ``published`` into the dataset's current latest rows and write them as the table's Parquet
    files, committing nothing: what ``curve_latest_merge`` does before its commit, done outside the lock
    (and beside the slice's own Parquet write, decision 0059). None when the dataset needs a rebuild."""
    table = curve_latest_table()
    tasks = _plan(table, dataset)
    latest = _merged(_rows(table, dataset, tasks), dataset, published)
    if latest is None:
        return None
    return PreparedLatest(
        dataset=dataset, basis=_basis(table, tasks), files=data_files_write(table, latest), rows=latest
    )


def curve_latest_discard(prepared: PreparedLatest) -> None:
    """Delete a prepared latest's files (the slice was not published)."""
    data_files_discard(curve_latest_table(), prepared.files)


def curve_latest_merge(
    dataset: str, published: pa.Table, *, prepared: PreparedLatest | None = None
) -> tuple[int, str]:
    """Bring the dataset's latest rows up to date after ``published`` (one as-of slice) was written.

    ``prepared`` (from ``curve_latest_prepare`` with the same rows) is committed as it is when the dataset's
    latest files are still those it was computed from; otherwise its files are deleted and the merge is
    done again here. Returns (rows written, "merge" | "rebuild"): which of the two paths in the module
    docstring ran.
    """
    table = curve_latest_table()
    tasks = _plan(table, dataset)
    if prepared is not None:
        if prepared.dataset == dataset and prepared.basis == _basis(table, tasks):
            where = _dataset_filter(dataset)
            partition_replace(table, row_filter=where, files=prepared.files, rows=prepared.rows)
            return prepared.rows.num_rows, "merge"
        data_files_discard(table, prepared.files)  # another writer changed the dataset's latest rows
    latest = _merged(_rows(table, dataset, tasks), dataset, published)
    if latest is None:
        return curve_latest_rebuild(dataset), "rebuild"
    _dataset_replace(table, dataset, latest)
    return latest.num_rows, "merge"


def _dataset_replace(table: Table, dataset: str, latest: pa.Table) -> None:
    """The dataset's partition becomes ``latest``, in one snapshot."""
    files = data_files_write(table, latest)
    partition_replace(table, row_filter=_dataset_filter(dataset), files=files, rows=latest)
