"""The tenant's Iceberg table of scenario outputs, ``t_<schema>.scenario_output`` (spec 2.4 columns).

Partitioned by identity(scenario_id), identity(metric) and day(asof_date), as the original: a scenario's
outputs (and one metric of them) prune to their own files, and deleting a scenario is a metadata-only delete.
Files are sorted by curve_key, tenor_label; each run writes its own files, so a one-run read opens only the
files whose run_id range covers it.

Many runs finish at the same moment; their appends are serialised by a Postgres advisory lock per table
(taken in the caller's transaction) instead of racing and retrying Iceberg's optimistic commits.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any, cast

import pyarrow as pa
from django.db import connection
from pyiceberg.exceptions import CommitFailedException, NoSuchTableError
from pyiceberg.expressions import And, BooleanExpression, EqualTo
from pyiceberg.table import Table
from pyiceberg.transforms import DayTransform, IdentityTransform

from apps.scenarios.engine import SCENARIO_OUTPUT_SCHEMA
from aurum.lakehouse.catalog import get_catalog, namespace_ensure

TABLE_NAME = "scenario_output"
TABLE_PROPERTIES = {"format-version": "2", "write.parquet.row-group-limit": "8192"}
SORT_COLUMNS = ("curve_key", "tenor_label", "contract_month", "metric")
COMMIT_ATTEMPTS = 5

_lock = threading.Lock()


def output_table_name(schema_name: str) -> str:
    return f"t_{schema_name}.{TABLE_NAME}"


def output_table_ensure(schema_name: str) -> Table:
    """The tenant's scenario_output table, created with its partition spec and sort order on first use."""
    identifier = output_table_name(schema_name)
    catalog = get_catalog()
    try:
        return catalog.load_table(identifier)
    except NoSuchTableError:
        pass
    with _lock:
        namespace_ensure(f"t_{schema_name}")
        try:
            return catalog.load_table(identifier)
        except NoSuchTableError:
            table = catalog.create_table(
                identifier, schema=SCENARIO_OUTPUT_SCHEMA, properties=TABLE_PROPERTIES
            )
        with table.update_spec() as spec:
            spec.add_field("scenario_id", IdentityTransform(), "scenario_id")
            spec.add_field("metric", IdentityTransform(), "metric")
            spec.add_field("asof_date", DayTransform(), "asof_day")
        with table.update_sort_order() as order:
            for column in SORT_COLUMNS:
                order.asc(column, IdentityTransform())
        return catalog.load_table(identifier)


def _lock_key(identifier: str) -> int:
    return int.from_bytes(hashlib.sha256(identifier.encode()).digest()[:8], "big", signed=True)


def output_rows_append(schema_name: str, rows: pa.Table) -> int | None:
    """Append one run's rows (sorted) and return the snapshot id written.

    Call inside a transaction: the advisory lock is held until it ends, so the next run's append starts
    from this one's committed metadata. A commit conflict from another writer is retried on fresh metadata.
    """
    identifier = output_table_name(schema_name)
    output_table_ensure(schema_name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key(identifier)])
    ordered = rows.sort_by([(column, "ascending") for column in SORT_COLUMNS])
    for attempt in range(COMMIT_ATTEMPTS):
        table = get_catalog().load_table(identifier)
        try:
            table.append(ordered)
        except CommitFailedException:
            if attempt == COMMIT_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
            continue
        snapshot = table.current_snapshot()
        return snapshot.snapshot_id if snapshot is not None else None
    return None  # pragma: no cover - the loop returns or raises


def _eq(name: str, value: str) -> BooleanExpression:
    return cast(BooleanExpression, cast(Any, EqualTo)(name, value))


def run_row_filter(*, scenario_id: str, run_id: str, metric: str | None = None) -> BooleanExpression:
    """Iceberg filter of one run's rows (optionally one metric): prunes to the scenario's partitions."""
    expression: BooleanExpression = And(_eq("scenario_id", scenario_id), _eq("run_id", run_id))
    if metric is not None:
        expression = And(expression, _eq("metric", metric))
    return expression


def scenario_outputs_delete(schema_name: str, scenario_id: str) -> None:
    """Drop a deleted scenario's rows (whole partitions: a metadata-only delete)."""
    try:
        table = get_catalog().load_table(output_table_name(schema_name))
    except NoSuchTableError:
        return
    table.delete(_eq("scenario_id", scenario_id))
