"""``market.curve_latest``: the latest row per (curve_key, tenor_label), kept up to date at ingest.

"Latest" is the hot read (a trader opening a curve). Over ``market.curve_observation`` it must open one file
per as-of day of the dataset (52 files, ~640 ms measured); over this table it opens one file per dataset.

The table has ``curve_observation``'s schema and holds, per dataset, exactly the rows the ranking
``curves_latest`` applies would pick (greatest asof_date, then greatest _ingest_ts, then dataset and
price_type), so every latest read gives the same answer on either table (tested). It is partitioned by
dataset; each dataset's partition is replaced atomically by the ingest that changes it:

- a new day, or a back-filled older day that is not yet in the latest rows: merge the slice into the
  dataset's current latest rows (cheap: two small inputs);
- a corrected re-load of a day that latest rows come from: the corrected file may drop a tenor whose
  earlier vintage must then reappear, so the dataset's latest is recomputed from every vintage.

``curve_latest_rebuild`` recomputes any dataset from scratch (repair, or a warehouse written before this
table existed).
"""

from __future__ import annotations

from typing import Any, cast

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.expressions import BooleanExpression, EqualTo

from aurum.lakehouse import queries
from aurum.lakehouse.tables import (
    CURVE_OBSERVATION_ARROW,
    curve_latest_table,
    curve_observation_table,
)


def _dataset_filter(dataset: str) -> BooleanExpression:
    # pyiceberg predicates are pydantic models; (term, value) is their documented positional constructor.
    return cast(BooleanExpression, cast(Any, EqualTo)("dataset", dataset))


def _rank(rows: pa.Table, dataset: str) -> pa.Table:
    """The rows ``curves_latest`` would pick: the same built query, run over ``rows`` (its scan's table
    node replaced by the registered Arrow table on the tree)."""
    sql = queries.curves_latest(queries.CurveFilters(datasets=(dataset,))).sql(
        "duckdb", tables={queries.OBS: "rows"}
    )
    con = duckdb.connect()
    try:
        con.register("rows", rows)
        ranked = con.sql(sql).to_arrow_table()
    finally:
        con.close()
    return ranked.select(CURVE_OBSERVATION_ARROW.names).cast(CURVE_OBSERVATION_ARROW)


def curve_latest_rebuild(dataset: str) -> int:
    """Recompute one dataset's latest rows from every vintage. Returns the row count written.

    The caller holds the curve tables' write lock (ingestion does) or accepts a race with an ingest.
    """
    rows = curve_observation_table().scan(row_filter=_dataset_filter(dataset)).to_arrow()
    latest = _rank(rows, dataset)
    curve_latest_table().overwrite(latest, overwrite_filter=_dataset_filter(dataset))
    return latest.num_rows


def curve_latest_merge(dataset: str, published: pa.Table) -> tuple[int, str]:
    """Bring the dataset's latest rows up to date after ``published`` (one as-of slice) was written.

    Returns (rows written, "merge" | "rebuild"): which of the two paths in the module docstring ran.
    """
    table = curve_latest_table()
    current = table.scan(row_filter=_dataset_filter(dataset)).to_arrow()
    asofs = pc.unique(published.column("asof_date")).to_pylist()
    replaced = current.num_rows and pc.any(pc.is_in(current.column("asof_date"), pa.array(asofs))).as_py()
    if replaced:
        return curve_latest_rebuild(dataset), "rebuild"
    merged = pa.concat_tables(
        [current.cast(CURVE_OBSERVATION_ARROW), published.cast(CURVE_OBSERVATION_ARROW)]
    )
    latest = _rank(merged, dataset)
    table.overwrite(latest, overwrite_filter=_dataset_filter(dataset))
    return latest.num_rows, "merge"
