"""Thin tasks: the freshness evaluation and the backfill sweep (beat, every minute), and one backfill window
(the ``backfill`` queue, aurum/queues.py). Only transient database errors are retried: a window's own
failure is recorded on it and retried by an operator (failed-only retry)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from apps.datasets.services.backfills import WINDOW_TASK, backfill_sweep, backfill_window_run
from apps.datasets.services.freshness import dataset_freshness_evaluate
from aurum.transient import TRANSIENT_ERRORS


@shared_task(name="datasets.freshness_evaluate")
def dataset_freshness_evaluate_task() -> dict[str, int]:
    return dataset_freshness_evaluate(now=timezone.now())


@shared_task(name="datasets.backfill_sweep")
def backfill_sweep_task() -> int:
    return backfill_sweep(now=timezone.now())


@shared_task(name=WINDOW_TASK, autoretry_for=TRANSIENT_ERRORS, max_retries=3, retry_backoff=2, acks_late=True)
def backfill_window_run_task(window_id: int) -> str | None:
    window = backfill_window_run(window_id=window_id)
    return window.status if window is not None else None
