"""Real workbooks published as (dataset, as-of) Iceberg slices of their own, for scenario and PPA tests.

The as-of days precede the real files' range (July-September 2025), so no other test reads them as a
dataset's latest. The ingest's database rows are rolled back (only the Iceberg slice is kept): the curve
catalog and ingest runs other tests count stay untouched.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
from django.db import transaction


class _RollbackError(Exception):
    pass


def ingest_slice(path: Path, asof: date) -> None:
    """Publish ``path`` as its dataset's ``asof`` slice, leaving no database rows behind."""
    from apps.ingestion.services import ingest_run_create, ingest_run_execute

    try:
        with transaction.atomic():
            created = ingest_run_create(
                data=path.read_bytes(), file_name=path.name, source="command", as_of=asof
            )
            run = ingest_run_execute(run_id=created.run.pk)
            assert run.status in ("succeeded", "succeeded_with_quarantine"), run.error_message
            raise _RollbackError
    except _RollbackError:
        pass


def read_slice(dataset: str, asof: date) -> pa.Table:
    from aurum.lakehouse.tables import curve_observation_table, slice_filter

    return curve_observation_table().scan(row_filter=slice_filter(dataset, asof)).to_arrow()
