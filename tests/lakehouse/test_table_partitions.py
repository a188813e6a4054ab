"""The partitioned write's split (decision 0070): ``table_partitions`` cuts a table into the same partitions,
with the same keys and the same rows in the same order, as pyiceberg's own ``_determine_partitions`` (the
oracle), whether a partition's rows are scattered (a take) or lie in a few contiguous ranges (slices), with
null partition values and chunked input; and ``rows_append`` commits what ``Table.append`` commits."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.io.pyarrow import _determine_partitions
from pyiceberg.table import Table
from pyiceberg.transforms import DayTransform, IdentityTransform

from aurum.lakehouse.partitions import rows_append, table_partitions
from tests.support.observability import read_spans, tracing_to

SCHEMA = pa.schema(
    [
        ("scenario_id", pa.string()),
        ("metric", pa.string()),
        ("asof_date", pa.date32()),
        ("row", pa.int64()),
        ("value", pa.float64()),
        ("attribution", pa.list_(pa.struct([("component", pa.string()), ("delta", pa.float64())]))),
    ]
)


def _rows(n: int, *, seed: int, grouped: bool, nulls: bool = False) -> pa.Table:
    """``n`` rows over 2 scenarios x 3 metrics x 2 days; ``grouped``: in runs of 200 rows of one partition
    (as staged runs are), else each row's partition drawn at random."""
    rng = random.Random(seed)
    keys: list[tuple[str | None, str, date]] = [
        (s, m, date(2025, 9, 12) + timedelta(days=d))
        for s in ("sc-a", "sc-b")
        for m in ("mid", "uplift", "policy_uplift")
        for d in (0, 1)
    ]
    if nulls:
        keys.append((None, "mid", date(2025, 9, 12)))
    picked = [keys[(i // 200) % len(keys)] if grouped else rng.choice(keys) for i in range(n)]
    return pa.table(
        {
            "scenario_id": [k[0] for k in picked],
            "metric": [k[1] for k in picked],
            "asof_date": [k[2] for k in picked],
            "row": list(range(n)),
            "value": [rng.random() for _ in range(n)],
            "attribution": [[{"component": "policy", "delta": float(i)}] if i % 3 else [] for i in range(n)],
        },
        schema=SCHEMA,
    )


@pytest.fixture
def table(tmp_path) -> Table:
    catalog = SqlCatalog("parts", uri=f"sqlite:///{tmp_path}/catalog.db", warehouse=f"file://{tmp_path}/wh")
    catalog.create_namespace("n")
    created = catalog.create_table("n.t", schema=SCHEMA, properties={"format-version": "2"})
    with created.update_spec() as spec:
        spec.add_field("scenario_id", IdentityTransform(), "scenario_id")
        spec.add_field("metric", IdentityTransform(), "metric")
        spec.add_field("asof_date", DayTransform(), "asof_day")
    return catalog.load_table("n.t")


def _by_key(partitions) -> dict[str, pa.Table]:
    return {str(key.partition): rows for key, rows in partitions}


@pytest.mark.parametrize(
    ("grouped", "nulls", "chunks"),
    [(False, False, 1), (True, False, 1), (True, True, 4), (False, True, 3)],
    ids=["scattered", "grouped", "grouped-nulls-chunked", "scattered-nulls-chunked"],
)
def test_the_split_equals_pyicebergs_own(table, grouped, nulls, chunks):
    rows = _rows(6_000, seed=7, grouped=grouped, nulls=nulls)
    if chunks > 1:
        size = rows.num_rows // chunks + 1
        rows = pa.concat_tables([rows.slice(i * size, size) for i in range(chunks)])
    spec, schema = table.metadata.spec(), table.metadata.schema()

    ours = list(table_partitions(spec, schema, rows))
    theirs = _by_key(
        (part.partition_key, part.arrow_table_partition) for part in _determine_partitions(spec, schema, rows)
    )

    assert len(ours) == len(theirs) == (13 if nulls else 12)
    assert _by_key(ours).keys() == theirs.keys()
    for key, part in ours:
        expected = theirs[str(key.partition)].drop_columns(
            [name for name in theirs[str(key.partition)].column_names if name.startswith("_partition_")]
        )
        assert part.equals(expected), key.partition
        assert all(column.num_chunks == 1 for column in part.columns)  # fresh buffers, as pyiceberg's
        assert pc.all(
            pc.greater(pc.pairwise_diff(part.column("row").combine_chunks()).drop_null(), 0)
        ).as_py()


def test_rows_append_commits_what_table_append_commits(table, tmp_path):
    rows = _rows(3_000, seed=3, grouped=True)

    rows_append(table, rows, snapshot_properties={"aurum.run-ids": "r1,r2"})
    ours = table.current_snapshot()
    table.append(rows, snapshot_properties={"aurum.run-ids": "r1,r2"})
    theirs = table.current_snapshot()

    assert ours is not None and theirs is not None and ours.parent_snapshot_id is None
    assert ours.summary is not None and theirs.summary is not None
    assert ours.summary.operation == theirs.summary.operation
    for field in ("added-data-files", "added-records", "changed-partition-count", "aurum.run-ids"):
        assert ours.summary[field] == theirs.summary[field], field
    read = table.scan(snapshot_id=ours.snapshot_id).to_arrow().sort_by("row")
    assert read.equals(rows.sort_by("row"))
    ours_files = {
        task.file.file_path: task.file for task in table.scan(snapshot_id=ours.snapshot_id).plan_files()
    }
    theirs_files = [
        task.file
        for task in table.scan(snapshot_id=theirs.snapshot_id).plan_files()
        if task.file.file_path not in ours_files
    ]
    assert sorted((str(f.partition), f.record_count) for f in ours_files.values()) == sorted(
        (str(f.partition), f.record_count) for f in theirs_files
    )


def test_no_rows_make_no_partitions(table):
    metadata = table.metadata

    assert list(table_partitions(metadata.spec(), metadata.schema(), _rows(0, seed=1, grouped=True))) == []


def test_rows_append_of_no_rows_still_commits_a_snapshot_without_files(table):
    rows_append(table, _rows(0, seed=1, grouped=True))

    snapshot = table.current_snapshot()
    assert snapshot is not None and len(table.metadata.snapshots) == 1
    assert list(table.scan(snapshot_id=snapshot.snapshot_id).plan_files()) == []


def test_partition_codes_are_renumbered_before_they_overflow(tmp_path):
    """Nine identity partitions: k0 of two values, then eight of 256 values each. k0's weight in a code is
    256^8 = 2^64, so without renumbering row 256 (k0 = 1, the rest 0) would share row 0's code (k0 = 0, the
    rest 0) modulo 2^64; every row must land in a partition of its own."""
    n = 256
    columns = {"k0": [0] * n + [1]}
    columns |= {f"k{i}": list(range(n)) + [0] for i in range(1, 9)}
    rows = pa.table({name: pa.array(values, pa.int64()) for name, values in columns.items()})
    catalog = SqlCatalog("wide", uri=f"sqlite:///{tmp_path}/wide.db", warehouse=f"file://{tmp_path}/wide")
    catalog.create_namespace("n")
    table = catalog.create_table("n.wide", schema=rows.schema, properties={"format-version": "2"})
    with table.update_spec() as spec:
        for name in columns:
            spec.add_field(name, IdentityTransform(), name)
    metadata = catalog.load_table("n.wide").metadata

    parts = list(table_partitions(metadata.spec(), metadata.schema(), rows))

    assert len(parts) == n + 1
    for key, part in parts:
        assert part.num_rows == 1
        assert [part.column(name)[0].as_py() for name in columns] == [key.partition[i] for i in range(9)]


def test_a_commit_gets_one_span_with_its_rows_and_snapshot_through_either_way(table, tmp_path):
    """``rows_append`` and pyiceberg's own ``Table.append`` (instrumented) each give one ``lakehouse.append``
    span carrying the table, the rows and the snapshot it committed."""
    rows = _rows(1_000, seed=5, grouped=True)
    spans_path = tmp_path / "spans.jsonl"

    with tracing_to(spans_path):
        table.append(rows)
        theirs = table.current_snapshot()
        rows_append(table, rows.slice(0, 600))
        ours = table.current_snapshot()

    assert theirs is not None and ours is not None
    commits = [span["attributes"] for span in read_spans(spans_path) if span["name"] == "lakehouse.append"]
    assert [(c["aurum.lakehouse.rows"], c["aurum.lakehouse.snapshot_id"]) for c in commits] == [
        (1_000, theirs.snapshot_id),
        (600, ours.snapshot_id),
    ]
    assert {c["aurum.lakehouse.table"] for c in commits} == {"n.t"}
