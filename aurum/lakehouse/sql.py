"""Lakehouse reads as sqlglot trees, with each engine's tables put in on the tree (never in SQL text).

A read is a ``LakehouseQuery``: a sqlglot query that names every Iceberg table it reads by a scan alias (a
bare table reference such as ``obs``), plus one ``ScanSpec`` per alias: the table, an Iceberg row filter
that prunes files, and optionally a pinned snapshot. Filter values are literals in the tree (``literal``),
which sqlglot's generator quotes and escapes. To run it, an engine replaces each alias's table *nodes*:

- DuckDB: ``READ_PARQUET($obs_files, union_by_name = TRUE, hive_partitioning = FALSE) AS obs``; the files
  pyiceberg planned are bound to that parameter at each read, so the SQL renders once per query object
  (memoised on it: generating costs ~3-5 ms, as much as a one-curve read). When a planned file predates a
  column of the table, the scan reads ``schema = GETVARIABLE('aurum_schema_…')`` instead of
  ``union_by_name``: the table's columns by Iceberg field id, so that file reads the column as null (a
  variant rendered and memoised separately). A scan with no files reads an
  empty relation of the table's schema (``duckdb_sql``'s ``empty``), registered by the engine under a name
  derived from that schema.
- Trino: ``iceberg.<namespace>.<table> AS obs``, with ``FOR VERSION AS OF <snapshot>`` for a pinned scan.

A value that reads like SQL (``x FROM "obs" y``, quotes, ``--``, ``;``) is a string literal node and is never
looked at by the substitution.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from pyiceberg.expressions import AlwaysTrue, BooleanExpression
from sqlglot import exp

TRINO_CATALOG = "iceberg"
DIALECTS = ("duckdb", "trino")
_ALIAS = re.compile(r"[a-z][a-z0-9_]*\Z")


@dataclass(frozen=True)
class ScanSpec:
    """One Iceberg table a query reads, under ``alias``, restricted by a pruning filter (which only ever
    prunes: the query repeats every predicate), at ``snapshot_id`` or the current snapshot."""

    table: str
    alias: str
    row_filter: BooleanExpression | str = field(default_factory=AlwaysTrue)
    snapshot_id: int | None = None


@dataclass(frozen=True, eq=False)
class LakehouseQuery:
    """A lakehouse read: ``expression`` reads each scan's table through a bare reference to its alias.

    Checked when built: aliases are simple and unique, every bare table reference is a scan alias (or a CTE
    of the query), and every scan is read. Query objects are shared (builders are memoised), so renderings
    are memoised on the object, keyed by dialect and what varies per read.
    """

    expression: exp.Query
    scans: tuple[ScanSpec, ...]
    renders: dict[tuple[object, ...], str] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        aliases = [scan.alias for scan in self.scans]
        bad = [alias for alias in aliases if not _ALIAS.match(alias)]
        if bad or len(set(aliases)) != len(aliases):
            raise ValueError(f"scan aliases must be unique lower-case identifiers: {aliases}")
        ctes = {cte.alias_or_name for cte in self.expression.find_all(exp.CTE)}
        if ctes & set(aliases):
            raise ValueError(f"a CTE of the query takes a scan's alias: {sorted(ctes & set(aliases))}")
        read = {node.name for node in self.expression.find_all(exp.Table) if _is_bare(node)}
        if read - ctes - set(aliases):
            raise ValueError(
                f"the query reads tables that no scan provides: {sorted(read - ctes - set(aliases))}"
            )
        if set(aliases) - read:
            raise ValueError(f"scans the query never reads: {sorted(set(aliases) - read)}")

    @property
    def row_filter(self) -> BooleanExpression | str:
        return self.scans[0].row_filter

    def pinned(self, snapshot_id: int | None) -> LakehouseQuery:
        """The same read with every scan at ``snapshot_id`` (None: the current snapshots)."""
        scans = tuple(dataclasses.replace(scan, snapshot_id=snapshot_id) for scan in self.scans)
        return LakehouseQuery(expression=self.expression, scans=scans)

    def sql(self, dialect: str, tables: Mapping[str, str] | None = None) -> str:
        """The SQL an engine runs (``duckdb_sql`` with no empty scans, ``trino_sql``), or, given ``tables``,
        the query over those named tables (alias -> table name; e.g. a registered Arrow table)."""
        if dialect not in DIALECTS:
            raise ValueError(f"dialect must be one of {DIALECTS}, not {dialect!r}")
        if tables is not None:
            return render(self, dialect, lambda scan: named_table(tables[scan.alias]))
        return trino_sql(self) if dialect == "trino" else duckdb_sql(self)


class LeanQuery(LakehouseQuery):
    """What a memo keeps of a query: its scans and its renderings, and how to build its tree again.

    A tree weighs tens of KB of Python objects (a one-curve latest read with its rendering: 37 KB; lean, under
    5 KB, tests/lakehouse/test_lean_query.py), and in a soak the memo of 512 trees filling with varied reads
    was most of a web process's growth (issue 14, docs/performance.md). The query is built once here and
    rendered in ``dialect`` (the configured engine's plain rendering, what nearly every read runs); the tree
    is then dropped. A rendering not made yet (an empty scan, a scan by field id, another dialect) builds the
    tree again for that once (~3-5 ms)."""

    def __init__(self, build: Callable[[], LakehouseQuery], dialect: str) -> None:
        query = build()
        object.__setattr__(self, "scans", query.scans)
        object.__setattr__(self, "renders", query.renders)
        object.__setattr__(self, "_build", build)
        query.sql(dialect)  # into the shared renders, while the tree is at hand

    @property  # type: ignore[override]
    def expression(self) -> exp.Query:  # type: ignore[override]
        """The tree, built again (not kept)."""
        return self._build().expression  # type: ignore[attr-defined, no-any-return]


def _is_bare(node: exp.Table) -> bool:
    """A reference by plain name (``obs``, ``obs AS o``): no schema or catalog, not a table function."""
    return isinstance(node.this, exp.Identifier) and not node.args.get("db") and not node.args.get("catalog")


def render(query: LakehouseQuery, dialect: str, relation: Callable[[ScanSpec], exp.Expression]) -> str:
    """``query`` in ``dialect`` with every table node of a scan alias replaced by ``relation(scan)``, under
    the reference's own alias (the scan alias when it has none)."""
    scans = {scan.alias: scan for scan in query.scans}

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and _is_bare(node) and node.name in scans:
            alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(node.name))
            replaced = relation(scans[node.name])
            replaced.set("alias", alias.copy())
            return replaced
        return node

    return query.expression.transform(swap).sql(dialect=dialect, identify=True)


def files_parameter(alias: str) -> str:
    """The DuckDB parameter a scan's file list is bound to."""
    return f"{alias}_files"


def duckdb_sql(
    query: LakehouseQuery,
    empty: Mapping[str, str] | None = None,
    by_field_id: Mapping[str, str] | None = None,
) -> str:
    """The DuckDB SQL: each scan reads ``$<alias>_files`` with ``read_parquet``, its columns matched by name
    (``union_by_name``), or, for the scans in ``by_field_id`` (alias -> name of a DuckDB variable holding
    the table's columns by Iceberg field id), by field id; the scans in ``empty`` (alias -> name of an empty
    relation of the table's schema) read that relation."""
    empty = empty or {}
    by_field_id = by_field_id or {}
    key = (
        "duckdb",
        *sorted(empty.items()),
        *(("id", alias, name) for alias, name in sorted(by_field_id.items())),
    )
    sql = query.renders.get(key)
    if sql is None:

        def relation(scan: ScanSpec) -> exp.Expression:
            if scan.alias in empty:
                return named_table(empty[scan.alias])
            # Columns come from the files, never from their paths: Iceberg's partition folders
            # (``metric=mid/``) look like Hive partitions, which DuckDB would add as columns. Matched by
            # field id when some file predates a column of the table (it then reads as null), else by name
            # (cheaper to bind: ~1.5 ms less per read, measured).
            columns: exp.Expression
            if scan.alias in by_field_id:
                variable = exp.Literal.string(by_field_id[scan.alias])
                columns = exp.EQ(
                    this=exp.var("schema"),
                    expression=exp.Anonymous(this="getvariable", expressions=[variable]),
                )
            else:
                columns = exp.EQ(this=exp.var("union_by_name"), expression=exp.Boolean(this=True))
            options = [columns, exp.EQ(this=exp.var("hive_partitioning"), expression=exp.Boolean(this=False))]
            files = exp.Placeholder(this=files_parameter(scan.alias))
            return exp.Table(this=exp.Anonymous(this="read_parquet", expressions=[files, *options]))

        sql = query.renders[key] = render(query, "duckdb", relation)
    return sql


def trino_sql(query: LakehouseQuery) -> str:
    """The Trino SQL: each scan reads ``iceberg.<namespace>.<table>``, at its snapshot when pinned."""
    sql = query.renders.get(("trino",))
    if sql is None:
        sql = query.renders[("trino",)] = render(query, "trino", trino_table)
    return sql


def named_table(name: str) -> exp.Table:
    """A table node for a dotted name (``rows``, ``lake.market.curve_observation``), each part quoted."""
    *qualifiers, table = name.split(".")
    catalog, db = ([None, None, *qualifiers])[-2:]
    return exp.table_(table, db=db, catalog=catalog, quoted=True)


def trino_table(scan: ScanSpec) -> exp.Table:
    namespace, _, name = scan.table.rpartition(".")
    table = exp.table_(name, db=namespace, catalog=TRINO_CATALOG, quoted=True)
    if scan.snapshot_id is not None:
        version = exp.Literal.number(int(scan.snapshot_id))
        table.set("version", exp.Version(this="VERSION", kind="AS OF", expression=version))
    return table


# --- building blocks for read builders ---------------------------------------------------------------------


def scan_table(alias: str) -> exp.Table:
    """The bare reference through which a query reads the scan ``alias``."""
    return exp.table_(alias)


def column(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table)


def literal(value: object) -> exp.Expression:
    """``value`` as a literal node: strings are quoted and escaped by the generator, never spliced."""
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, int | float | Decimal):
        return exp.Literal.number(value)
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, datetime):
        raise TypeError("no read compares timestamps yet: give them an explicit zone first")
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.Type.DATE)
    raise TypeError(f"no SQL literal for {type(value).__name__}")


def equals(name: str, value: object, table: str | None = None) -> exp.Expression:
    return column(name, table).eq(literal(value))


def one_of(name: str, values: Iterable[object], table: str | None = None) -> exp.Expression:
    """``name IN (values)``; FALSE for no values (matches nothing, as an empty entitlement must)."""
    items = [literal(value) for value in values]
    return column(name, table).isin(*items) if items else exp.false()


def ascending(this: exp.Expression) -> exp.Ordered:
    return exp.Ordered(this=this, desc=False, nulls_first=False)


def descending(this: exp.Expression) -> exp.Ordered:
    return exp.Ordered(this=this, desc=True, nulls_first=False)


def paged(select: exp.Select, limit: int | None, offset: int = 0) -> exp.Select:
    if limit is not None:
        select = select.limit(int(limit))
    if offset:
        select = select.offset(int(offset))
    return select
