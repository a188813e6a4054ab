"""Iceberg table definitions, created on first use.

``market.curve_observation`` is partitioned by dataset (identity) and day(asof_date): an EOD file is exactly
one partition, so replacing a corrected day is an atomic partition overwrite, and as-of reads prune to one
partition. Files are sorted by curve_key, tenor_label, so a one-curve read opens only the row groups whose
curve_key range covers it.
"""

import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import CommitFailedException, NoSuchTableError
from pyiceberg.table import Table
from pyiceberg.transforms import DayTransform, IdentityTransform, Transform

from aurum.lakehouse.catalog import get_catalog, namespace_ensure
from aurum.lakehouse.curve_schema import CURVE_TABLE_SCHEMA, QUARANTINE_REASON_FIELD, RULES_PASSED_FIELD
from aurum.lakehouse.locks import table_lock_name

MARKET = "market"
CURVE_OBSERVATION = f"{MARKET}.curve_observation"
CURVE_QUARANTINE = f"{MARKET}.curve_observation_quarantine"
# The latest row per (curve_key, tenor_label), kept up to date at ingest (aurum.lakehouse.latest).
CURVE_LATEST = f"{MARKET}.curve_latest"

_LINEAGE_FIELDS = [pa.field("dataset", pa.string()), pa.field("ingest_run_id", pa.int64())]
CURVE_OBSERVATION_ARROW = pa.schema([*CURVE_TABLE_SCHEMA, RULES_PASSED_FIELD, *_LINEAGE_FIELDS])
CURVE_QUARANTINE_ARROW = pa.schema([*CURVE_TABLE_SCHEMA, QUARANTINE_REASON_FIELD, *_LINEAGE_FIELDS])

# Small row groups let DuckDB skip most of a file for a one-curve read (files are sorted by curve_key).
TABLE_PROPERTIES = {"format-version": "2", "write.parquet.row-group-limit": "8192"}
SORT_COLUMNS = ("curve_key", "tenor_label")
# The writers of the three curve tables take turns on one lock: the latest rows are derived from the
# vintages, so the writes of both must be seen in one order.
CURVE_TABLES_LOCK = table_lock_name(CURVE_OBSERVATION)

_lock = threading.Lock()
_EVOLVE_ATTEMPTS = 3
_curve_tables_ensured: weakref.WeakSet[SqlCatalog] = weakref.WeakSet()


@dataclass(frozen=True)
class PartitionField:
    source: str
    transform: Transform  # type: ignore[type-arg]
    name: str


def identity(column: str) -> PartitionField:
    return PartitionField(column, IdentityTransform(), column)


def by_day(column: str, name: str) -> PartitionField:
    return PartitionField(column, DayTransform(), name)


def table_ensure(
    identifier: str,
    schema: pa.Schema,
    *,
    partition: Sequence[PartitionField] = (),
    sort: Sequence[str] = (),
    properties: Mapping[str, str] = TABLE_PROPERTIES,
) -> Table:
    """Load an Iceberg table, creating it (namespace, partition spec, sort order) on first use, and adding
    the columns of ``schema`` it lacks (a table written by an older Aurum; see ``columns_ensure``).

    The one way every Aurum table comes to exist: market curves, scenario outputs, PPA valuations.
    """
    catalog = get_catalog()
    try:
        return columns_ensure(catalog.load_table(identifier), schema)
    except NoSuchTableError:
        pass
    with _lock:
        namespace_ensure(identifier.rpartition(".")[0])
        try:
            return catalog.load_table(identifier)
        except NoSuchTableError:
            table = catalog.create_table(identifier, schema=schema, properties=dict(properties))
        if partition:
            with table.update_spec() as spec:
                for field in partition:
                    spec.add_field(field.source, field.transform, field.name)
        if sort:
            with table.update_sort_order() as order:
                for column in sort:
                    order.asc(column, IdentityTransform())
        return catalog.load_table(identifier)


def columns_ensure(table: Table, schema: pa.Schema) -> Table:
    """Add to ``table`` the top-level columns of ``schema`` it does not have, as optional columns, each
    placed after the column it follows in ``schema`` (so an evolved table lists its columns in the same
    order as a new one). Rows written before read as null: Iceberg resolves columns by field id, and a data
    file without the new field has no value for it. Columns are only ever added, never dropped or retyped.

    Idempotent and safe to race: a commit that loses to another process's evolution is retried on fresh
    metadata, which then lacks nothing.
    """
    for attempt in range(_EVOLVE_ATTEMPTS):
        present = set(table.schema().column_names)
        missing = [field for field in schema if field.name not in present]
        if not missing:
            return table
        try:
            with table.update_schema() as update:
                update.union_by_name(pa.schema(missing))
                for field in missing:
                    position = schema.get_field_index(field.name)
                    if position == 0:
                        update.move_first(field.name)
                    else:
                        update.move_after(field.name, schema.field(position - 1).name)
        except CommitFailedException:
            if attempt == _EVOLVE_ATTEMPTS - 1:
                raise
        table = table.refresh()
    return table


def curve_tables_ensure() -> None:
    """Create or evolve the three curve tables, once per catalog per process. Reads select every column of
    ``CURVE_OBSERVATION_ARROW``, so a warehouse written by an older Aurum must gain its new columns before
    its first read, not only at its next ingest."""
    catalog = get_catalog()
    if catalog in _curve_tables_ensured:
        return
    curve_observation_table()
    curve_latest_table()
    curve_quarantine_table()
    _curve_tables_ensured.add(catalog)


def curve_observation_table() -> Table:
    return table_ensure(
        CURVE_OBSERVATION,
        CURVE_OBSERVATION_ARROW,
        partition=(identity("dataset"), by_day("asof_date", "asof_day")),
        sort=SORT_COLUMNS,
    )


def curve_latest_table() -> Table:
    return table_ensure(
        CURVE_LATEST, CURVE_OBSERVATION_ARROW, partition=(identity("dataset"),), sort=SORT_COLUMNS
    )


def curve_quarantine_table() -> Table:
    return table_ensure(
        CURVE_QUARANTINE,
        CURVE_QUARANTINE_ARROW,
        partition=(identity("dataset"), by_day("asof_date", "asof_day")),
        sort=SORT_COLUMNS,
    )


def slice_filter(dataset: str, asof: date) -> str:
    """The Iceberg row filter of one (dataset, as-of) slice: exactly one partition."""
    quoted = dataset.replace("'", "''")
    return f"dataset = '{quoted}' AND asof_date = '{asof.isoformat()}'"
