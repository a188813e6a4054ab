"""Query engines behind one small interface: ``query(LakehouseQuery) -> QueryResult``.

DuckDB (default, in-process) reads the Parquet data files that pyiceberg plans for each scan, so Iceberg's
partition and column-statistics pruning decide which files are opened. Trino (at scale) runs the same query
tree, rendered for Trino, over the same catalog. Both put their tables into the tree
(``aurum.lakehouse.sql``); neither edits SQL text.
"""

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlparse

import duckdb
import pyarrow as pa
import requests
import structlog
import trino.dbapi
import trino.exceptions
import trino.types
from django.conf import settings
from duckdb import _seam as duckdb_seam
from opentelemetry import trace
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.table import Table

from aurum.errors import AurumError, UnavailableError
from aurum.lakehouse.catalog import get_catalog
from aurum.lakehouse.pointers import table_pointer
from aurum.lakehouse.sql import (
    TRINO_CATALOG,
    LakehouseQuery,
    ScanSpec,
    duckdb_sql,
    files_parameter,
    trino_sql,
)
from aurum.lakehouse.storage import duckdb_filesystems_register


@dataclass
class QueryResult:
    table: pa.Table
    files_scanned: int
    snapshot_ids: dict[str, int | None]


class QueryEngine(Protocol):
    name: str

    def query(self, query: LakehouseQuery) -> QueryResult: ...


_local = threading.local()
log = structlog.get_logger(__name__)
# A read waits at most this long for one HTTP answer of the coordinator, and the client tries a request
# this many times when the coordinator answers 502/503/504 or the connection fails.
TRINO_REQUEST_TIMEOUT_SECONDS = 30.0
TRINO_MAX_ATTEMPTS = 3


# One in-process DuckDB database per process (per warehouse): its object cache (Parquet footers) and its
# threads are shared by every thread's connection. Each ``duckdb.connect()`` of an in-memory database makes a
# whole new database, with threads of its own (8 on this DuckDB, whatever its "threads" setting) and an empty
# object cache, and costs ~30 ms; a connection to an open database (``cursor()``) costs well under 1 ms.
_database_lock = threading.Lock()
_database: tuple[str, int, duckdb.DuckDBPyConnection] | None = None


def duckdb_database() -> duckdb.DuckDBPyConnection:
    """The process's DuckDB database (a connection to it), opened on first use for the current warehouse. A
    forked child opens its own: a database's threads do not survive a fork."""
    global _database
    warehouse, pid = settings.AURUM_WAREHOUSE, os.getpid()
    current = _database  # every query asks: no lock unless the database must be opened
    if current is not None and current[:2] == (warehouse, pid):
        return current[2]
    with _database_lock:
        if _database is None or _database[:2] != (warehouse, pid):
            # One thread per query: requests run concurrently on the server's threads already; per-query
            # parallelism on 2 cores only made them contend. (A database of an earlier warehouse, in tests,
            # is left to its open connections and closes with the last of them.)
            con = duckdb.connect(config={"enable_object_cache": True, "threads": 1})
            duckdb_filesystems_register(con)  # the database's file systems: every connection to it reads S3
            _database = (warehouse, pid, con)
        return _database[2]


def duckdb_connection() -> duckdb.DuckDBPyConnection:
    """This thread's connection to the process's DuckDB database, kept between queries (a DuckDB connection
    is not to be shared by threads running queries at once). Registered relations and variables are the
    connection's own, so each thread keeps track of what it set."""
    con = getattr(_local, "connection", None)
    database = duckdb_database()
    if con is None or _local.database is not database:
        con = database.cursor()
        _local.connection = con
        _local.database = database
        _local.empty_relations = set()
        _local.schema_variables = set()
    return con


def _empty_relation(con: duckdb.DuckDBPyConnection, table: Table) -> str:
    """The name of an empty Arrow relation with ``table``'s schema, registered once per connection: what a
    scan whose plan has no files reads (``read_parquet`` of no files is an error). The name is derived from
    the schema, so it is the same relation for every query of that schema."""
    schema = table.schema().as_arrow()
    name = "aurum_empty_" + hashlib.sha256(schema.serialize().to_pybytes()).hexdigest()[:16]
    if name not in _local.empty_relations:
        con.register(name, schema.empty_table())
        _local.empty_relations.add(name)
    return name


# --- planning cache ------------------------------------------------------------------------------------
# Loading a table (catalog row + metadata JSON) and planning a scan (manifest list + manifests) cost ~14 ms
# per read. Both are pure functions of the table's metadata file, which changes on every commit; so the one
# thing asked of the catalog per read is the current metadata location (one indexed row, ~0.5 ms), and the
# table and its plans are reused while it is unchanged. Data written by another process is seen at once.


@dataclass(frozen=True)
class _Plan:
    paths: list[str]
    predates_columns: bool  # some file has no value counts for a column of the table's schema


_PLAN_CACHE_SIZE = 1024
_cache_lock = threading.Lock()
_tables: dict[tuple[int, str], tuple[str, Table]] = {}
_plans: OrderedDict[tuple[str, int | None, str], _Plan] = OrderedDict()


def _table(catalog: SqlCatalog, identifier: str) -> tuple[str | None, Table]:
    location = table_pointer(catalog, identifier)
    key = (id(catalog), identifier)
    with _cache_lock:
        cached = _tables.get(key)
    if location is not None and cached is not None and cached[0] == location:
        return location, cached[1]
    table = catalog.load_table(identifier)  # raises NoSuchTableError for a missing table
    location = table.metadata_location
    with _cache_lock:
        _tables[key] = (location, table)
        if cached is not None and cached[0] != location:
            # The table moved on: no read plans its old metadata again, so its plans go now instead of
            # filling the cache to its bound as commits follow one another (memory that grew with every
            # ingest in the soaks). At most _PLAN_CACHE_SIZE keys to look at, once per commit seen.
            for stale in [plan_key for plan_key in _plans if plan_key[0] == cached[0]]:
                del _plans[stale]
    return location, table


def _plan(table: Table, location: str | None, scan: ScanSpec, snapshot_id: int | None) -> _Plan:
    key = (location or "", snapshot_id, repr(scan.row_filter))
    with _cache_lock:
        found = _plans.get(key)
        if found is not None:
            _plans.move_to_end(key)
            return found
    plan = table.scan(row_filter=scan.row_filter, snapshot_id=snapshot_id)
    tasks = list(plan.plan_files())
    # pyiceberg records value counts for every column of the schema it writes with, so a file without one
    # for a field was written before that field was added (or without its metrics: then reading it by
    # field id is merely slower, never wrong).
    field_ids = {field.field_id for field in table.schema().fields}
    found = _Plan(
        paths=[task.file.file_path for task in tasks],
        predates_columns=any(field_ids - set(task.file.value_counts or {}) for task in tasks),
    )
    with _cache_lock:
        _plans[key] = found
        while len(_plans) > _PLAN_CACHE_SIZE:
            _plans.popitem(last=False)
    return found


_schema_variables: dict[tuple[str, int], tuple[str, str]] = {}


def _columns_by_field_id(con: duckdb.DuckDBPyConnection, table: Table) -> str:
    """The name of a DuckDB variable holding ``read_parquet``'s ``schema`` for ``table``'s current schema
    (field id -> name, DuckDB type, NULL default), set once per connection.

    Iceberg resolves a file's columns by field id, not by name; reading with this map gives every file the
    table's columns, so a file written before a column was added reads it as null (``union_by_name`` drops
    the column from a read whose files all predate it: a binder error). The DuckDB types are those DuckDB
    gives the table's Arrow schema (the empty relation's), so the result types are what they are by name. A
    variable, not a bound parameter: converting the map from Python at every read cost ~1.3 ms (measured).
    Memoised per (table, schema id): a schema id never changes meaning within a table.
    """
    key = (str(table.metadata.table_uuid), table.metadata.current_schema_id)
    with _cache_lock:
        found = _schema_variables.get(key)
    if found is None:
        described = con.sql(f'DESCRIBE "{_empty_relation(con, table)}"').fetchall()
        types = {row[0]: row[1] for row in described}
        entries = ", ".join(
            f"{field.field_id}: {{'name': {_quoted(field.name)}, 'type': {_quoted(types[field.name])}, "
            "'default_value': NULL}"
            for field in table.schema().fields
        )
        literal = f"MAP {{{entries}}}"
        name = "aurum_schema_" + hashlib.sha256(literal.encode()).hexdigest()[:16]
        found = (name, literal)
        with _cache_lock:
            _schema_variables[key] = found
    name, literal = found
    if name not in _local.schema_variables:
        con.execute(f"SET VARIABLE {name} = {literal}")
        _local.schema_variables.add(name)
    return name


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _traced(engine: str, run: Callable[[LakehouseQuery], QueryResult], query: LakehouseQuery) -> QueryResult:
    """Run ``query`` inside a ``lakehouse.query`` span (a no-op while tracing is off) with its engine, tables
    and, once answered, rows and files scanned."""
    tables = sorted({scan.table for scan in query.scans})
    attributes = {"db.system": engine, "aurum.lakehouse.engine": engine, "aurum.lakehouse.table": tables}
    # The tracer is looked up per query, not kept: a tracer obtained before a provider was installed (or from
    # one since shut down, in tests) would keep sending spans nowhere.
    tracer = trace.get_tracer("aurum.lakehouse")
    with tracer.start_as_current_span("lakehouse.query", attributes=attributes) as span:
        result = run(query)
        span.set_attribute("aurum.lakehouse.rows", result.table.num_rows)
        span.set_attribute("aurum.lakehouse.files_scanned", result.files_scanned)
        return result


class DuckDBEngine:
    name = "duckdb"

    def query(self, query: LakehouseQuery) -> QueryResult:
        return _traced(self.name, self._query, query)

    def _query(self, query: LakehouseQuery) -> QueryResult:
        """Plan each scan (cached per table metadata and filter), then run the query's DuckDB SQL (rendered
        once per query object) with each scan's files bound to its parameter (and, where a file predates a
        column, the table's columns by field id in a variable): no view is created, so no later query can
        read this one's files."""
        catalog = get_catalog()
        con = duckdb_connection()
        params: dict[str, Any] = {}
        by_field_id: dict[str, str] = {}
        files_scanned = 0
        empty: dict[str, str] = {}
        snapshots: dict[str, int | None] = {}
        for scan in query.scans:
            location, table = _table(catalog, scan.table)
            snapshot_id = scan.snapshot_id
            if snapshot_id is None and table.current_snapshot() is not None:
                snapshot_id = table.current_snapshot().snapshot_id  # type: ignore[union-attr]
            snapshots[scan.table] = snapshot_id
            plan = _plan(table, location, scan, snapshot_id)
            if plan.paths:
                params[files_parameter(scan.alias)] = plan.paths
                if plan.predates_columns:
                    by_field_id[scan.alias] = _columns_by_field_id(con, table)
                files_scanned += len(plan.paths)
            else:
                empty[scan.alias] = _empty_relation(con, table)
        result = arrow_of(con, duckdb_sql(query, empty, by_field_id), params or None)
        return QueryResult(table=result, files_scanned=files_scanned, snapshot_ids=snapshots)


# DuckDB's own terminal step: what ``con.sql(text, params=...).to_arrow_table()`` runs once it has a relation.
_SUBMIT: Callable[..., Any] | None = getattr(duckdb_seam, "submit", None)


def arrow_of(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None) -> pa.Table:
    """The rows of one SELECT as an Arrow table, run once (issue 14, decision 0058).

    ``con.sql(text, params=...)`` first binds the statement to describe the lazy relation it returns (parsing
    it and opening the Parquet footers), then ``to_arrow_table()`` parses, binds and runs it again: the first
    bind cost ~1.5 ms of a ~5 ms one-curve read (measured, docs/performance.md). Aurum never uses the
    relation, so it runs the statement the way the relation's terminal does (``duckdb._seam.submit``: the
    same call, the same Arrow output, without the extra copy DuckDB warns of for DB-API results). Where a
    DuckDB release no longer has that function, ``con.sql`` runs it (tests/lakehouse/test_duckdb_fast_path.py
    fails first)."""
    if _SUBMIT is not None:
        return _SUBMIT(con, sql, params, "arrow").arrow_table()
    return con.sql(sql, params=params).to_arrow_table()


class QueryEngineError(AurumError):
    """Trino refused a read (a 502 problem): Aurum's SQL or the cluster's catalog is at fault, not the
    caller's request, and asking again will not help."""

    status = 502
    title = "Bad Gateway"
    slug = "query-engine-error"


class QueryEngineUnavailableError(UnavailableError):
    """Trino is unreachable, overloaded or failed inside (a 503 problem): asking again later may work."""

    slug = "query-engine-unavailable"


# What Trino answers for a table (or a tenant's namespace) that does not exist: the same condition as
# pyiceberg's NoSuchTableError on DuckDB, which the selectors answer as "no rows yet".
_TRINO_MISSING_TABLE = frozenset({"TABLE_NOT_FOUND", "SCHEMA_NOT_FOUND"})


class TrinoEngine:
    """The scale-out engine: the query's Trino rendering, run by a Trino cluster over the same Iceberg
    catalog (``deploy/trino/``). Trino plans and prunes the files itself, so ``files_scanned`` is unknown
    (-1); a scan pinned to a snapshot reads it with ``FOR VERSION AS OF`` and reports it, an unpinned scan
    reads the current snapshot and reports None (Trino does not say which).

    Failures are the project's errors: a missing table is ``NoSuchTableError`` (as on DuckDB), a query
    Trino rejects ``QueryEngineError`` (502), an unreachable or failing cluster
    ``QueryEngineUnavailableError`` (503). Trino's own message goes to the log, not to the caller.
    """

    name = "trino"

    def __init__(self, url: str | None = None) -> None:
        self.url = url or settings.AURUM_TRINO_URL
        if not self.url:
            raise RuntimeError(
                "AURUM_QUERY_ENGINE=trino needs AURUM_TRINO_URL (e.g. http://aurum@trino:8080)."
            )

    def _coordinator(self) -> tuple[str, str, int, str]:
        """Scheme, host, port and user of ``AURUM_TRINO_URL`` (``https`` defaults to 443, else 8080)."""
        url = urlparse(self.url)
        scheme = url.scheme or "http"
        return (
            scheme,
            url.hostname or "",
            url.port or (443 if scheme == "https" else 8080),
            url.username or "aurum",
        )

    def _connect(self) -> Any:
        scheme, host, port, user = self._coordinator()
        return trino.dbapi.connect(
            host=host,
            port=port,
            user=user,
            http_scheme=scheme,
            catalog=TRINO_CATALOG,
            max_attempts=TRINO_MAX_ATTEMPTS,
            request_timeout=TRINO_REQUEST_TIMEOUT_SECONDS,
        )

    def server_info(self, *, timeout: float) -> dict[str, Any]:
        """The coordinator's ``GET /v1/info`` (version, environment, ``starting``): one HTTP request, one
        attempt, no query planned. Raises ``requests.RequestException`` when it does not answer 200."""
        scheme, host, port, user = self._coordinator()
        response = requests.get(
            f"{scheme}://{host}:{port}/v1/info", headers={"X-Trino-User": user}, timeout=timeout
        )
        response.raise_for_status()
        info: dict[str, Any] = response.json()
        return info

    def query(self, query: LakehouseQuery) -> QueryResult:
        return _traced(self.name, self._query, query)

    def _query(self, query: LakehouseQuery) -> QueryResult:
        sql = trino_sql(query)
        try:
            names, kinds, rows = self._fetch(sql)
        except trino.exceptions.TrinoUserError as exc:
            if exc.error_name in _TRINO_MISSING_TABLE:
                raise NoSuchTableError(exc.message) from exc
            log.error(
                "trino rejected a read", error=exc.error_name, query_id=exc.query_id, message=exc.message
            )
            raise QueryEngineError(
                f"The query engine rejected this read ({exc.error_name}, Trino query {exc.query_id}).",
                engine_error=exc.error_name,
            ) from exc
        except trino.exceptions.TrinoQueryError as exc:
            log.error(
                "trino failed a read", error=exc.error_name, query_id=exc.query_id, trino_message=exc.message
            )
            raise QueryEngineUnavailableError(
                f"The query engine failed this read ({exc.error_name}, Trino query {exc.query_id}); "
                "try again later.",
                engine_error=exc.error_name,
            ) from exc
        except (trino.exceptions.HttpError, trino.exceptions.Error, requests.RequestException) as exc:
            log.error("trino unreachable", error=str(exc))
            raise QueryEngineUnavailableError(
                "The query engine is unavailable; try again later.", engine_error=type(exc).__name__
            ) from exc
        columns = {name: [row[i] for row in rows] for i, name in enumerate(names)}
        for name, kind in zip(names, kinds, strict=True):
            if "row(" in kind:  # a struct: the client gives tuples, Arrow (and DuckDB's answer) has dicts
                columns[name] = [_struct_plain(value) for value in columns[name]]
        return QueryResult(
            table=pa.table(columns) if names else pa.table({}),
            files_scanned=-1,
            snapshot_ids={scan.table: scan.snapshot_id for scan in query.scans},
        )

    def _fetch(self, sql: str) -> tuple[list[str], list[str], list[list[Any]]]:
        """Run ``sql``: the client posts it to ``/v1/statement`` and follows ``nextUri`` page by page.
        Returns the column names, their Trino types and the rows."""
        connection = self._connect()
        try:
            cursor = connection.cursor()
            cursor.execute(sql)
            rows = cursor.fetchall()
            description = cursor.description or ()
        finally:
            connection.close()
        return [column[0] for column in description], [str(column[1]) for column in description], rows


def _struct_plain(value: Any) -> Any:
    """A Trino ``row`` value (a tuple with field names), or a list or map of them, as plain dicts."""
    if isinstance(value, trino.types.NamedRowTuple):
        names = value.__annotations__["names"]
        return {name: _struct_plain(item) for name, item in zip(names, value, strict=True)}
    if isinstance(value, list):
        return [_struct_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _struct_plain(item) for key, item in value.items()}
    return value


def get_engine() -> QueryEngine:
    """The engine ``AURUM_QUERY_ENGINE`` names: ``duckdb`` (default, in-process) or ``trino``."""
    if settings.AURUM_QUERY_ENGINE == "duckdb":
        return DuckDBEngine()
    if settings.AURUM_QUERY_ENGINE == "trino":
        return TrinoEngine()
    raise ValueError(f"Unknown AURUM_QUERY_ENGINE '{settings.AURUM_QUERY_ENGINE}': use duckdb or trino.")
