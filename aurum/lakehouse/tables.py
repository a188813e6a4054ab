"""Iceberg table definitions, created on first use.

``market.curve_observation`` is partitioned by dataset (identity) and day(asof_date): an EOD file is exactly
one partition, so replacing a corrected day is an atomic partition overwrite, and as-of reads prune to one
partition. Files are sorted by curve_key, tenor_label, so a one-curve read opens only the row groups whose
curve_key range covers it.
"""

import threading
from datetime import date

import pyarrow as pa
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.table import Table
from pyiceberg.transforms import DayTransform, IdentityTransform

from apps.ingestion.parsers.schema import CURVE_TABLE_SCHEMA, QUARANTINE_REASON_FIELD, RULES_PASSED_FIELD
from aurum.lakehouse.catalog import get_catalog, namespace_ensure

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

_lock = threading.Lock()


def _table_ensure(identifier: str, schema: pa.Schema, *, by_day: bool = True) -> Table:
    """Load the table, creating it on first use: partitioned by dataset (and day(asof_date) when ``by_day``),
    sorted by curve_key, tenor_label."""
    catalog = get_catalog()
    try:
        return catalog.load_table(identifier)
    except NoSuchTableError:
        pass
    with _lock:
        namespace_ensure(MARKET)
        try:
            return catalog.load_table(identifier)
        except NoSuchTableError:
            table = catalog.create_table(identifier, schema=schema, properties=TABLE_PROPERTIES)
        with table.update_spec() as spec:
            spec.add_field("dataset", IdentityTransform(), "dataset")
            if by_day:
                spec.add_field("asof_date", DayTransform(), "asof_day")
        with table.update_sort_order() as order:
            order.asc("curve_key", IdentityTransform())
            order.asc("tenor_label", IdentityTransform())
        return catalog.load_table(identifier)


def curve_observation_table() -> Table:
    return _table_ensure(CURVE_OBSERVATION, CURVE_OBSERVATION_ARROW)


def curve_latest_table() -> Table:
    return _table_ensure(CURVE_LATEST, CURVE_OBSERVATION_ARROW, by_day=False)


def curve_quarantine_table() -> Table:
    return _table_ensure(CURVE_QUARANTINE, CURVE_QUARANTINE_ARROW)


def slice_filter(dataset: str, asof: date) -> str:
    """The Iceberg row filter of one (dataset, as-of) slice: exactly one partition."""
    quoted = dataset.replace("'", "''")
    return f"dataset = '{quoted}' AND asof_date = '{asof.isoformat()}'"
