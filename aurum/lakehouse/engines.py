"""Query engines behind one small interface.

DuckDB (default, in-process) reads the Parquet data files that pyiceberg plans for a scan, so Iceberg's
partition and column-statistics pruning decide which files are opened. Trino (at scale) will run the same
queries over the same catalog.
"""

import threading
from dataclasses import dataclass, field
from typing import Protocol

import duckdb
import pyarrow as pa
from django.conf import settings
from pyiceberg.expressions import AlwaysTrue, BooleanExpression

from aurum.lakehouse.catalog import get_catalog


@dataclass(frozen=True)
class ScanSpec:
    """One Iceberg table to expose to a query, as ``alias``, restricted by a pruning filter."""

    table: str
    alias: str
    row_filter: BooleanExpression | str = field(default_factory=AlwaysTrue)
    snapshot_id: int | None = None


@dataclass
class QueryResult:
    table: pa.Table
    files_scanned: int
    snapshot_ids: dict[str, int | None]


class QueryEngine(Protocol):
    name: str

    def query(self, sql: str, scans: list[ScanSpec], params: list[object] | None = None) -> QueryResult: ...


_local = threading.local()


def _duckdb_connection() -> duckdb.DuckDBPyConnection:
    """One in-process DuckDB per thread, kept: opening one costs ~30 ms, a query on an open one ~4 ms
    (measured, docs/performance.md)."""
    con = getattr(_local, "connection", None)
    if con is None:
        con = duckdb.connect()
        _local.connection = con
    return con


class DuckDBEngine:
    name = "duckdb"

    def query(self, sql: str, scans: list[ScanSpec], params: list[object] | None = None) -> QueryResult:
        catalog = get_catalog()
        con = _duckdb_connection()
        files_scanned = 0
        snapshots: dict[str, int | None] = {}
        try:
            for scan in scans:
                table = catalog.load_table(scan.table)
                snapshot_id = scan.snapshot_id
                if snapshot_id is None and table.current_snapshot() is not None:
                    snapshot_id = table.current_snapshot().snapshot_id  # type: ignore[union-attr]
                snapshots[scan.table] = snapshot_id
                plan = table.scan(row_filter=scan.row_filter, snapshot_id=snapshot_id)
                paths = [task.file.file_path for task in plan.plan_files()]
                files_scanned += len(paths)
                if paths:
                    relation = con.read_parquet(paths, union_by_name=True)
                else:
                    relation = con.from_arrow(table.schema().as_arrow().empty_table())
                relation.create_view(scan.alias, replace=True)
            result = con.sql(sql, params=params or None).to_arrow_table()
        finally:
            for scan in scans:  # a later query must never read this query's files by accident
                con.execute(f'DROP VIEW IF EXISTS "{scan.alias}"')
        return QueryResult(table=result, files_scanned=files_scanned, snapshot_ids=snapshots)


def get_engine() -> QueryEngine:
    if settings.AURUM_QUERY_ENGINE == "duckdb":
        return DuckDBEngine()
    raise NotImplementedError(f"Query engine '{settings.AURUM_QUERY_ENGINE}' is not available yet.")
