"""The engine runs each SELECT once, through DuckDB's own terminal step, instead of ``con.sql()`` (which binds
the statement to describe a relation first, then binds and runs it again): decision 0058. The answer must be
exactly what ``con.sql(...).to_arrow_table()`` gives, schema included, for every shape of read the engine
sends: named parameters with a list of files, no parameters, a registered empty relation, and errors."""

from __future__ import annotations

import uuid

import duckdb
import pyarrow as pa
import pytest
from duckdb import _seam

from aurum.lakehouse import engines
from aurum.lakehouse.catalog import get_catalog, namespace_ensure


@pytest.fixture
def files(db) -> list[str]:
    namespace_ensure("fastpath")
    table = get_catalog().create_table(
        f"fastpath.t_{uuid.uuid4().hex[:8]}",
        schema=pa.schema([("k", pa.string()), ("v", pa.float64()), ("d", pa.date32())]),
    )
    table.append(pa.table({"k": ["a", "b"], "v": [1.5, None], "d": pa.array([19000, 19001], pa.date32())}))
    table.append(pa.table({"k": ["c"], "v": [float("nan")], "d": pa.array([None], pa.date32())}))
    return [task.file.file_path for task in table.scan().plan_files()]


def test_the_fast_path_is_duckdbs_terminal_step():
    # A DuckDB upgrade that drops or renames it would silently fall back to the slower con.sql(): fail here.
    assert engines._SUBMIT is _seam.submit


@pytest.mark.parametrize(
    ("sql", "params"),
    [
        ("SELECT k, v, d FROM read_parquet($files) WHERE k IN ($x, $y) ORDER BY k", {"x": "a", "y": "c"}),
        ("SELECT k, v, d FROM read_parquet($files) ORDER BY k DESC", {}),
        ("SELECT count(*) AS n, max(d) AS last FROM read_parquet($files)", {}),
    ],
)
def test_a_parameterised_read_answers_what_con_sql_answers(files, sql, params):
    con = engines.duckdb_connection()
    values = {"files": files, **params}

    fast = engines.arrow_of(con, sql, values)
    slow = con.sql(sql, params=values).to_arrow_table()

    assert fast.schema == slow.schema
    assert _rows(fast) == _rows(slow)
    assert fast.num_rows > 0


def _rows(table: pa.Table) -> list[dict[str, object]]:
    """The rows, with NaN written as a string (NaN is unequal to itself, and the data holds one)."""
    return [{k: "NaN" if v != v else v for k, v in row.items()} for row in table.to_pylist()]


def test_a_read_without_parameters_and_of_a_registered_relation():
    con = engines.duckdb_connection()
    con.register("fastpath_empty", pa.schema([("k", pa.string())]).empty_table())

    empty = engines.arrow_of(con, "SELECT k FROM fastpath_empty", None)
    plain = engines.arrow_of(con, "SELECT 42 AS answer, 'x' AS s", None)

    assert empty.num_rows == 0 and empty.schema.names == ["k"]
    assert plain.to_pylist() == [{"answer": 42, "s": "x"}]


def test_errors_are_duckdbs_own_exceptions(tmp_path):
    con = engines.duckdb_connection()
    missing = str(tmp_path / "gone.parquet")

    with pytest.raises(duckdb.IOException):
        engines.arrow_of(con, "SELECT * FROM read_parquet($files)", {"files": [missing]})
    with pytest.raises(duckdb.BinderException):
        engines.arrow_of(con, "SELECT no_such_column FROM (SELECT 1 AS a)", None)
    # The connection is usable after a failed read.
    assert engines.arrow_of(con, "SELECT 1 AS a", None).to_pylist() == [{"a": 1}]
