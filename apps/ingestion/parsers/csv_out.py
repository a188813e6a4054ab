"""CSV output of curve tables: the `curve.observation.v1` columns, in Avro order, and nothing else.

A quarantine table also gets its `quarantine_reason` column, last. Dates are `YYYY-MM-DD`, `_ingest_ts` is
`YYYY-MM-DD HH:MM:SS.ffffffZ` (UTC), NULL is an empty field, strings are quoted, floats keep full (round-trip)
precision.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv

from aurum.lakehouse.curve_schema import CURVE_OBSERVATION_FIELDS, QUARANTINE_REASON_FIELD


def csv_columns(table: pa.Table) -> list[str]:
    """Return the columns `write_csv` writes for `table`."""
    columns = list(CURVE_OBSERVATION_FIELDS)
    if QUARANTINE_REASON_FIELD.name in table.column_names:
        columns.append(QUARANTINE_REASON_FIELD.name)
    return columns


def write_csv(table: pa.Table, path: str | Path) -> int:
    """Write `table` to `path` as CSV with a header row; return the number of data rows written."""
    selected = table.select(csv_columns(table))
    options = pa_csv.WriteOptions(include_header=True, quoting_style="needed")
    pa_csv.write_csv(selected, str(path), write_options=options)
    return selected.num_rows
