"""Thin tasks: take ids, call one service.

An ingest retries transient failures (database, Iceberg commit races), and any failure once its rows are
published (the run must converge, never be left failed with its data served). A delivery that finds its run
still 'running' was redelivered after its worker died; ``ingest_run_execute`` stops that loop
(``AURUM_INGEST_MAX_DELIVERIES``).
"""

from pathlib import Path
from typing import Any

import structlog
from celery import Task, shared_task
from django.conf import settings
from django.db import transaction

from apps.ingestion.models import IngestRun
from apps.ingestion.services import (
    ingest_drop_folder_scan,
    ingest_run_execute,
    ingest_run_fail_unexpected,
    ingest_run_owns_its_slice,
    ingest_run_retry_later,
)
from aurum.transient import TRANSIENT_ERRORS, backoff_seconds, is_transient

log = structlog.get_logger(__name__)


@shared_task(name="ingestion.run_execute", bind=True, max_retries=3, acks_late=True)
def ingest_run_execute_task(self: Task, run_id: int) -> str:
    try:
        return str(ingest_run_execute(run_id=run_id).status)
    except Exception as exc:
        retries = self.request.retries
        if retries < self.max_retries and (is_transient(exc) or ingest_run_owns_its_slice(run_id=run_id)):
            countdown = backoff_seconds(retries)
            try:
                ingest_run_retry_later(run_id=run_id, error=exc, countdown=countdown)
            except (
                TRANSIENT_ERRORS
            ) as unrecorded:  # the database is what failed; the retry records its outcome
                log.warning("ingest retry not recorded on the run", run_id=run_id, error=str(unrecorded))
            raise self.retry(exc=exc, countdown=countdown) from exc
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
    transaction.on_commit(lambda: ingest_run_execute_task.apply_async((run.pk,), **options))
