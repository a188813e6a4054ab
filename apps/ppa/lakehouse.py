"""The tenant's ``t_<schema>.ppa_valuation`` Iceberg table (spec 2.5, plus the columns Aurum needs to tie rows
to their ``PpaValuation`` record and show the monthly inputs).

Partitioned by contract (identity) and day(asof_date), as the spec says: a contract's rows are one partition
prefix, so listing a contract's valuations and deleting a contract each touch only its own files. Reads are
lakehouse query trees (``ppa_rows_query``), rendered for DuckDB or Trino by the engine.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator, Sequence
from typing import Any, cast

import pyarrow as pa
from django.db import transaction
from django.utils import timezone
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import BooleanExpression, EqualTo
from pyiceberg.table import Table
from sqlglot import exp

from aurum.lakehouse.engines import get_engine
from aurum.lakehouse.locks import advisory_xact_lock, table_lock_name
from aurum.lakehouse.sql import (
    LakehouseQuery,
    ScanSpec,
    ascending,
    column,
    descending,
    equals,
    literal,
    one_of,
    paged,
    scan_table,
)
from aurum.lakehouse.tables import by_day, identity, table_ensure
from tenants.models import Tenant

TABLE_NAME = "ppa_valuation"
_MONEY = pa.decimal128(18, 6)
PPA_VALUATION_ARROW = pa.schema(
    [
        ("valuation_id", pa.string()),
        ("asof_date", pa.date32()),
        ("ppa_contract_id", pa.string()),
        ("scenario_id", pa.string()),
        ("run_id", pa.string()),
        ("curve_key", pa.string()),
        ("tenor_type", pa.string()),
        ("period_start", pa.date32()),
        ("period_end", pa.date32()),
        ("seq", pa.int32()),
        ("period", pa.int32()),
        ("price", pa.float64()),
        ("volume_mwh", pa.float64()),
        ("discounted", pa.float64()),
        ("cashflow", _MONEY),
        ("npv", _MONEY),
        ("irr", pa.float64()),
        ("metric", pa.string()),
        ("value", _MONEY),
        ("unit", pa.string()),
        ("currency", pa.string()),
        ("version_hash", pa.string()),
        ("_ingest_ts", pa.timestamp("us", tz="UTC")),
    ]
)
COLUMNS: tuple[str, ...] = tuple(PPA_VALUATION_ARROW.names)
_ALIAS = "ppa"
_lock = threading.Lock()


def ppa_valuation_table_name(tenant: Tenant) -> str:
    return f"{tenant.lakehouse_namespace}.{TABLE_NAME}"


def ppa_valuation_table(tenant: Tenant) -> Table:
    """The tenant's table, created (with its partition spec) on first use."""
    return table_ensure(
        ppa_valuation_table_name(tenant),
        PPA_VALUATION_ARROW,
        partition=(identity("ppa_contract_id"), by_day("asof_date", "asof_day")),
        properties={"format-version": "2"},
    )


def _commit_lock(tenant: Tenant) -> None:
    # Iceberg commits are optimistic; writers of one tenant's table take turns instead of failing.
    advisory_xact_lock(table_lock_name(ppa_valuation_table_name(tenant)))


def ppa_rows_append(*, tenant: Tenant, rows: Sequence[dict[str, Any]]) -> int:
    """Append rows (dicts with the table's columns; ``_ingest_ts`` is stamped here); the snapshot written."""
    now = timezone.now()
    arrow = pa.Table.from_pylist([{**row, "_ingest_ts": now} for row in rows], schema=PPA_VALUATION_ARROW)
    with transaction.atomic():
        _commit_lock(tenant)
        table = ppa_valuation_table(tenant)
        table.append(arrow)
        snapshot = table.current_snapshot()  # the commit updated the table object
    assert snapshot is not None
    return int(snapshot.snapshot_id)


def ppa_rows_delete(*, tenant: Tenant, contract_id: str) -> None:
    """Remove every row of a contract (a partition-aligned, metadata-only delete)."""
    with transaction.atomic():
        _commit_lock(tenant)
        table = ppa_valuation_table(tenant)
        table.delete(delete_filter=_contract_filter(contract_id))


def _contract_filter(contract_id: str) -> BooleanExpression:
    # pyiceberg predicates are pydantic models; (term, value) is their documented positional constructor.
    return cast(BooleanExpression, cast(Any, EqualTo)("ppa_contract_id", contract_id))


def ppa_rows_read(
    *,
    tenant: Tenant,
    contract_id: str,
    valuation_ids: Sequence[str],
    scenario_id: str | None = None,
    metric: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """A contract's rows of the given valuations, newest valuation first, then in row order."""
    if not valuation_ids:
        return []
    query = ppa_rows_query(
        table=ppa_valuation_table_name(tenant),
        contract_id=contract_id,
        valuation_ids=tuple(valuation_ids),
        scenario_id=scenario_id,
        metric=metric,
        limit=limit,
        offset=offset,
    )
    try:
        result = get_engine().query(query)
    except NoSuchTableError:
        return []  # nothing valued in this tenant yet
    return cast(list[dict[str, Any]], result.table.to_pylist())


@functools.lru_cache(maxsize=128)
def ppa_rows_query(
    *,
    table: str,
    contract_id: str,
    valuation_ids: tuple[str, ...],
    scenario_id: str | None = None,
    metric: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> LakehouseQuery:
    """The read ``ppa_rows_read`` runs: every column, the metric matched ignoring case; pruned to the
    contract's partitions."""
    conditions = [equals("ppa_contract_id", contract_id), one_of("valuation_id", valuation_ids)]
    if scenario_id is not None:
        conditions.append(equals("scenario_id", scenario_id))
    if metric is not None:
        conditions.append(exp.Lower(this=column("metric")).eq(exp.Lower(this=literal(metric))))
    select = (
        exp.select(*(column(name) for name in COLUMNS))
        .from_(scan_table(_ALIAS))
        .where(exp.and_(*conditions))
        .order_by(
            descending(column("_ingest_ts")), ascending(column("valuation_id")), ascending(column("seq"))
        )
    )
    scan = ScanSpec(table, _ALIAS, row_filter=_contract_filter(contract_id))
    return LakehouseQuery(expression=paged(select, limit, offset), scans=(scan,))


@functools.lru_cache(maxsize=16)
def ppa_contract_ids_query(*, table: str) -> LakehouseQuery:
    """Every contract id the table holds rows of, in order (the tenant export walks them one by one)."""
    select = (
        exp.select(column("ppa_contract_id"))
        .distinct()
        .from_(scan_table(_ALIAS))
        .order_by(ascending(column("ppa_contract_id")))
    )
    return LakehouseQuery(expression=select, scans=(ScanSpec(table, _ALIAS),))


def ppa_contract_rows_query(*, table: str, contract_id: str) -> LakehouseQuery:
    """Every row of one contract (every valuation), by valuation and row; pruned to its partitions."""
    select = (
        exp.select(*(column(name) for name in COLUMNS))
        .from_(scan_table(_ALIAS))
        .where(equals("ppa_contract_id", contract_id))
        .order_by(ascending(column("valuation_id")), ascending(column("seq")))
    )
    scan = ScanSpec(table, _ALIAS, row_filter=_contract_filter(contract_id))
    return LakehouseQuery(expression=select, scans=(scan,))


def ppa_rows_export(*, tenant: Tenant) -> Iterator[pa.Table]:
    """The tenant's whole table, one contract at a time (a contract's rows fit in memory; the table may
    not), each in the table's Arrow schema whichever engine read it."""
    table = ppa_valuation_table_name(tenant)
    engine = get_engine()
    # NoSuchTableError (nothing valued in this tenant yet) reaches the caller at the first row.
    contracts = engine.query(ppa_contract_ids_query(table=table)).table.column("ppa_contract_id")
    for contract_id in contracts.to_pylist():
        rows = engine.query(ppa_contract_rows_query(table=table, contract_id=contract_id)).table
        yield rows.select(list(COLUMNS)).cast(PPA_VALUATION_ARROW)
