"""Thin tasks: take ids, call one service. Transient failures (database, Iceberg commit races) retry."""

from pathlib import Path
from typing import Any

from celery import Task, shared_task
from django.conf import settings

from apps.ingestion.models import IngestRun
from apps.ingestion.services import ingest_drop_folder_scan, ingest_run_execute, ingest_run_fail_unexpected
from aurum.transient import TRANSIENT_ERRORS


@shared_task(name="ingestion.run_execute", bind=True, max_retries=5)
def ingest_run_execute_task(self: Task, run_id: int) -> str:
    """Retry transient failures with backoff; any other failure, or the last retry, marks the run failed."""
    try:
        return str(ingest_run_execute(run_id=run_id).status)
    except TRANSIENT_ERRORS as exc:
        if self.request.retries >= self.max_retries:
            ingest_run_fail_unexpected(run_id=run_id, error=exc)
            raise
        raise self.retry(exc=exc, countdown=2 ** (self.request.retries + 1)) from exc
    except Exception as exc:
        ingest_run_fail_unexpected(run_id=run_id, error=exc)
        raise


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
