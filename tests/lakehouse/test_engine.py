"""The DuckDB engine over a real Iceberg table in the test catalog: pruning, reuse, no leftovers."""

import uuid

import duckdb
import pyarrow as pa
import pytest

from aurum.lakehouse.catalog import get_catalog, namespace_ensure
from aurum.lakehouse.engines import DuckDBEngine, ScanSpec


@pytest.fixture
def table_name(db) -> str:
    namespace_ensure("enginetest")
    name = f"enginetest.t_{uuid.uuid4().hex[:8]}"
    table = get_catalog().create_table(name, schema=pa.schema([("k", pa.string()), ("v", pa.int64())]))
    table.append(pa.table({"k": ["a", "b"], "v": [1, 2]}))
    table.append(pa.table({"k": ["c"], "v": [3]}))
    return name


def test_a_query_reads_the_planned_files_and_applies_its_sql(table_name):
    result = DuckDBEngine().query(
        "SELECT k, v FROM t WHERE v >= ? ORDER BY k", [ScanSpec(table_name, "t")], [2]
    )

    assert result.table.to_pylist() == [{"k": "b", "v": 2}, {"k": "c", "v": 3}]
    assert result.files_scanned == 2
    current = get_catalog().load_table(table_name).current_snapshot()
    assert current is not None
    assert result.snapshot_ids[table_name] == current.snapshot_id


def test_statistics_prune_files(table_name):
    result = DuckDBEngine().query(
        "SELECT * FROM t WHERE k = 'c'", [ScanSpec(table_name, "t", row_filter="k = 'c'")]
    )

    assert result.files_scanned == 1
    assert result.table.num_rows == 1


def test_views_do_not_outlive_their_query(table_name):
    engine = DuckDBEngine()
    engine.query("SELECT count(*) FROM t", [ScanSpec(table_name, "t")])

    with pytest.raises(duckdb.CatalogException):
        engine.query("SELECT count(*) FROM t", [])


def test_an_older_snapshot_can_be_read(table_name):
    table = get_catalog().load_table(table_name)
    first = table.snapshots()[0].snapshot_id

    result = DuckDBEngine().query(
        "SELECT k FROM t ORDER BY k", [ScanSpec(table_name, "t", snapshot_id=first)]
    )

    assert result.table.column("k").to_pylist() == ["a", "b"]
