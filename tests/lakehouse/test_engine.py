"""The DuckDB engine over a real Iceberg table in the test catalog: pruning, snapshots, empty plans, values
that read like SQL, tables referenced in any form, and no state left behind."""

from __future__ import annotations

import threading
import uuid
from typing import cast

import duckdb
import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

from aurum.lakehouse.catalog import get_catalog, namespace_ensure
from aurum.lakehouse.engines import DuckDBEngine, duckdb_connection
from aurum.lakehouse.sql import LakehouseQuery, ScanSpec, column, equals, scan_table

SQLISH = ('x FROM "t" y', "it's", "a -- b", "a; DROP TABLE t; --", 'FROM "t"')


def parsed(sql: str, *scans: ScanSpec) -> LakehouseQuery:
    """A test query written as SQL text, parsed into the tree the engine takes."""
    return LakehouseQuery(expression=cast(exp.Query, sqlglot.parse_one(sql, read="duckdb")), scans=scans)


@pytest.fixture
def table_name(db) -> str:
    namespace_ensure("enginetest")
    name = f"enginetest.t_{uuid.uuid4().hex[:8]}"
    table = get_catalog().create_table(name, schema=pa.schema([("k", pa.string()), ("v", pa.int64())]))
    table.append(pa.table({"k": ["a", "b"], "v": [1, 2]}))
    table.append(pa.table({"k": ["c", *SQLISH], "v": [3, 4, 5, 6, 7, 8]}))
    return name


def test_a_query_reads_the_planned_files_and_applies_its_sql(table_name):
    result = DuckDBEngine().query(
        parsed("SELECT k, v FROM t WHERE v BETWEEN 2 AND 3 ORDER BY k", ScanSpec(table_name, "t"))
    )

    assert result.table.to_pylist() == [{"k": "b", "v": 2}, {"k": "c", "v": 3}]
    assert result.files_scanned == 2
    current = get_catalog().load_table(table_name).current_snapshot()
    assert current is not None
    assert result.snapshot_ids[table_name] == current.snapshot_id


def test_statistics_prune_files(table_name):
    result = DuckDBEngine().query(
        parsed("SELECT * FROM t WHERE k = 'c'", ScanSpec(table_name, "t", row_filter="k = 'c'"))
    )

    assert result.files_scanned == 1
    assert result.table.to_pylist() == [{"k": "c", "v": 3}]


@pytest.mark.parametrize("value", SQLISH)
def test_a_value_that_reads_like_sql_selects_exactly_its_row(table_name, value):
    select = exp.select("k", "v").from_(scan_table("t")).where(equals("k", value))

    result = DuckDBEngine().query(LakehouseQuery(expression=select, scans=(ScanSpec(table_name, "t"),)))

    assert result.table.to_pylist() == [{"k": value, "v": 4 + SQLISH.index(value)}]


def test_a_table_read_under_its_own_alias_joined_and_in_a_subquery(table_name):
    query = parsed(
        "SELECT o.k, p.v FROM t AS o JOIN (SELECT k, v * 10 AS v FROM t) AS p ON o.k = p.k "
        "WHERE o.v <= 2 ORDER BY o.k",
        ScanSpec(table_name, "t"),
    )

    result = DuckDBEngine().query(query)

    assert result.table.to_pylist() == [{"k": "a", "v": 10}, {"k": "b", "v": 20}]
    assert result.files_scanned == 2  # the scan is planned once, read twice


def test_two_scans_of_one_table_read_their_own_files(table_name):
    select = (
        exp.select(column("k", "a"), exp.alias_(column("k", "b"), "other"))
        .from_(scan_table("a"))
        .join(scan_table("b"), join_type="cross")
    )
    scans = (ScanSpec(table_name, "a", row_filter="v <= 2"), ScanSpec(table_name, "b", row_filter="v >= 3"))

    result = DuckDBEngine().query(LakehouseQuery(expression=select, scans=scans))

    # Each side reads its one planned file: a the first append (a, b), b the second (c and the SQL-ish keys).
    rows = result.table.to_pylist()
    assert result.files_scanned == 2
    assert len(rows) == 2 * 6
    assert {row["k"] for row in rows} == {"a", "b"}
    assert {row["other"] for row in rows} == {"c", *SQLISH}


def test_an_empty_plan_reads_an_empty_relation_of_the_tables_schema(table_name):
    result = DuckDBEngine().query(
        parsed("SELECT * FROM t WHERE k = 'zzz'", ScanSpec(table_name, "t", row_filter="k = 'zzz'"))
    )

    assert result.files_scanned == 0
    assert result.table.num_rows == 0
    assert result.table.schema.names == ["k", "v"]
    assert [field.type for field in result.table.schema] == [pa.string(), pa.int64()]


def test_an_older_snapshot_can_be_read(table_name):
    table = get_catalog().load_table(table_name)
    first = table.snapshots()[0].snapshot_id

    result = DuckDBEngine().query(
        parsed("SELECT k FROM t ORDER BY k", ScanSpec(table_name, "t", snapshot_id=first))
    )

    assert result.table.column("k").to_pylist() == ["a", "b"]
    assert result.snapshot_ids[table_name] == first


def test_nothing_is_left_under_a_scan_alias(table_name):
    DuckDBEngine().query(parsed("SELECT count(*) AS n FROM t", ScanSpec(table_name, "t")))

    with pytest.raises(duckdb.CatalogException):
        duckdb_connection().sql('SELECT count(*) FROM "t"')


def test_a_query_must_read_exactly_its_scans(table_name):
    with pytest.raises(ValueError, match="no scan provides: \\['other'\\]"):
        parsed("SELECT * FROM t JOIN other USING (k)", ScanSpec(table_name, "t"))
    with pytest.raises(ValueError, match="never reads: \\['u'\\]"):
        parsed("SELECT * FROM t", ScanSpec(table_name, "t"), ScanSpec(table_name, "u"))
    with pytest.raises(ValueError, match="CTE of the query takes a scan's alias"):
        parsed("WITH t AS (SELECT 1 AS k) SELECT * FROM t", ScanSpec(table_name, "t"))


def _in_a_new_thread(work):
    box: dict[str, object] = {}
    thread = threading.Thread(target=lambda: box.update(result=work()))
    thread.start()
    thread.join()
    return box["result"]


def test_each_thread_has_its_own_connection_to_the_one_database_of_the_process():
    # Per thread, a connection of its own (a DuckDB connection runs one query at a time); per process, one
    # database, so a new thread does not open a database of its own (~30 ms, 8 threads, an empty object
    # cache): what one thread's connection creates in it, another's sees.
    mine = duckdb_connection()
    name = f"shared_{uuid.uuid4().hex[:8]}"
    mine.execute(f"CREATE TABLE {name} AS SELECT 42 AS answer")
    try:
        theirs, seen = _in_a_new_thread(
            lambda: (duckdb_connection(), duckdb_connection().sql(f"SELECT answer FROM {name}").fetchall())
        )
        assert theirs is not mine
        assert seen == [(42,)]
        assert duckdb_connection() is mine  # kept for this thread's next query
    finally:
        mine.execute(f"DROP TABLE {name}")


def test_the_plans_of_a_tables_earlier_metadata_are_dropped_once_it_has_moved_on(table_name):
    # Plans are keyed by the table's metadata file, which every commit replaces: kept, the old ones filled the
    # cache to its bound as ingests followed one another (the soaks' readers grew with every upload).
    from aurum.lakehouse import engines

    def plans_of_table() -> list[tuple[str, int | None, str]]:
        with engines._cache_lock:
            return [key for key in engines._plans if f"/{table_name.split('.')[1]}/" in key[0]]

    read = parsed("SELECT count(*) AS n FROM t", ScanSpec(table_name, "t"))
    for commit in range(4):
        assert DuckDBEngine().query(read).table.column("n").to_pylist() == [8 + commit]
        get_catalog().load_table(table_name).append(pa.table({"k": [f"new{commit}"], "v": [100 + commit]}))
    assert DuckDBEngine().query(read).table.column("n").to_pylist() == [12]

    [only] = plans_of_table()  # the current metadata's plan; the four earlier ones are gone
    assert only[0] == get_catalog().load_table(table_name).metadata_location
