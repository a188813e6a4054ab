"""Thin tasks: fetch one (provider, dataset, window). The outside world's failures end as a failed run (no
retry here: a later schedule or backfill asks again), so a missing key or a dead network is never a crash
loop; only transient database errors are retried."""

from datetime import datetime

from celery import shared_task
from django.utils import timezone

from apps.feeds.adapters.base import Window
from apps.feeds.scheduling import feeds_schedule
from apps.feeds.services import feed_fetch
from aurum.transient import TRANSIENT_ERRORS

FETCH_TASK = "feeds.fetch"


@shared_task(name=FETCH_TASK, autoretry_for=TRANSIENT_ERRORS, max_retries=3, retry_backoff=2, acks_late=True)
def feed_fetch_task(provider: str, dataset: str, start: str, end: str) -> int | None:
    """The FetchRun's id, or None when another worker holds the window."""
    window = Window(datetime.fromisoformat(start), datetime.fromisoformat(end))
    run = feed_fetch(provider=provider, dataset=dataset, window=window)
    return run.pk if run is not None else None


@shared_task(name="feeds.schedule")
def feeds_schedule_task() -> int:
    """Fetch what the publication calendars say is due (beat, every minute)."""
    return len(feeds_schedule(now=timezone.now()))
