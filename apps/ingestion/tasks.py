"""Thin tasks: take ids, call one service. Transient failures (database, Iceberg commit races) retry."""

from pathlib import Path
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import OperationalError
from pyiceberg.exceptions import CommitFailedException

from apps.ingestion.models import IngestRun
from apps.ingestion.services import ingest_drop_folder_scan, ingest_run_execute


@shared_task(
    name="ingestion.run_execute",
    autoretry_for=(OperationalError, CommitFailedException, ConnectionError),
    retry_backoff=2,
    max_retries=5,
)
def ingest_run_execute_task(run_id: int) -> str:
    return str(ingest_run_execute(run_id=run_id).status)


@shared_task(name="ingestion.drop_folder_scan")
def ingest_drop_folder_scan_task() -> list[int]:
    runs = ingest_drop_folder_scan(folder=Path(settings.AURUM_INGEST_DROP_DIR))
    for run in runs:
        ingest_run_execute_task.delay(run.pk)
    return [run.pk for run in runs]


def ingest_run_enqueue(run: IngestRun, **options: Any) -> None:
    """Queue a run after the surrounding transaction commits (the worker must see the row)."""
    from django.db import transaction

    transaction.on_commit(lambda: ingest_run_execute_task.apply_async((run.pk,), **options))
