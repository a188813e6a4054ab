"""A backfill window sent to the ``backfill`` queue is run by a real worker: claimed, fetched (here the worker
has no FRED key, so the provider is never asked and the window fails with the fetch's reason), and its
outcome recorded on the window and the backfill."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest

from apps.datasets.models import Backfill, BackfillWindow
from apps.datasets.services.backfills import backfill_windows_send
from apps.feeds.models import FetchRun

pytestmark = pytest.mark.live


def test_a_worker_runs_a_window_from_the_backfill_queue(committed_world, celery_worker):
    backfill = Backfill.objects.create(
        dataset="feed:fred:DGS10", first_day=date(2031, 1, 6), last_day=date(2031, 1, 6), requested_in="ops"
    )
    window = BackfillWindow.objects.create(
        backfill=backfill,
        window_start=datetime(2031, 1, 6, tzinfo=UTC),
        window_end=datetime(2031, 1, 7, tzinfo=UTC),
        enqueued_at=datetime.now(UTC),
    )
    try:
        assert backfill_windows_send([window.pk]) == 1
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            window.refresh_from_db()
            if window.status in ("succeeded", "failed"):
                break
            time.sleep(0.2)

        backfill.refresh_from_db()
        assert (window.status, window.attempts, window.error_code) == ("failed", 1, "no_api_key")
        assert window.fetch_run is not None and window.fetch_run.status == "failed"
        assert backfill.status == "failed" and backfill.finished_at is not None
    finally:
        run_ids = list(
            BackfillWindow.objects.filter(backfill=backfill).values_list("fetch_run_id", flat=True)
        )
        backfill.delete()
        FetchRun.objects.filter(pk__in=[r for r in run_ids if r]).delete()
