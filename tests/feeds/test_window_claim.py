"""A window is claimed so two workers never fetch it at once: two threads (each its own database connection)
asking for the same window together — one fetches, the other is told it is claimed and sends no request."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
from django.db import connection
from django.test import override_settings

from tests.support.feeds import KEYS, recorded
from tests.support.lake import private_lake


def test_two_workers_never_fetch_the_same_window(committed_world: Any, tmp_path: Path) -> None:
    from apps.feeds.models import FetchRun, Watermark
    from apps.feeds.recorded import recorded_transport
    from apps.feeds.services import feed_fetch

    fetch: Any = recorded("FRED", "DGS10")
    start = threading.Barrier(2, timeout=20)
    loser_done = threading.Event()
    requests: list[httpx.Request] = []
    replay = recorded_transport(fetch.answer, seen=requests)

    def handler(request: httpx.Request) -> httpx.Response:
        loser_done.wait(timeout=20)  # the winner holds its claim until the other worker has tried
        return replay.handle_request(request)

    results: dict[str, Any] = {}

    def worker(name: str) -> None:
        try:
            start.wait()
            run = feed_fetch(
                provider="FRED", dataset="DGS10", window=fetch.window, transport=httpx.MockTransport(handler)
            )
            results[name] = run
            if run is None:
                loser_done.set()
        finally:
            connection.close()

    try:
        with override_settings(**KEYS), private_lake(tmp_path, []):
            threads = [threading.Thread(target=worker, args=(name,)) for name in ("a", "b")]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)

            runs = [run for run in results.values() if run is not None]
            assert sorted(results) == ["a", "b"]
            assert len(runs) == 1 and runs[0].status == "succeeded"
            assert len(requests) == 1
            assert list(FetchRun.objects.filter(provider="FRED").values_list("status", flat=True)) == [
                "succeeded"
            ]
    finally:
        FetchRun.objects.filter(provider="FRED", dataset="DGS10").delete()
        Watermark.objects.filter(provider="FRED", dataset="DGS10").delete()


def test_a_finished_window_can_be_claimed_again(feed_lake: Any) -> None:
    from apps.feeds.services import fetch_run_claim

    fetch: Any = recorded("FRED", "DGS10")
    first = fetch_run_claim(provider="FRED", dataset="DGS10", window=fetch.window)
    second = fetch_run_claim(provider="FRED", dataset="DGS10", window=fetch.window)
    assert first is not None and second is None

    first.status = "failed"
    first.save(update_fields=["status"])
    third = fetch_run_claim(provider="FRED", dataset="DGS10", window=fetch.window)

    assert third is not None and third.pk != first.pk


def test_a_claim_whose_worker_died_expires(feed_lake: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from apps.feeds.models import FetchRun
    from apps.feeds.services import fetch_run_claim

    fetch: Any = recorded("FRED", "DGS10")
    dead = fetch_run_claim(provider="FRED", dataset="DGS10", window=fetch.window)
    assert dead is not None
    FetchRun.objects.filter(pk=dead.pk).update(started_at=timezone.now() - timedelta(minutes=29))
    assert fetch_run_claim(provider="FRED", dataset="DGS10", window=fetch.window) is None

    FetchRun.objects.filter(pk=dead.pk).update(started_at=timezone.now() - timedelta(minutes=31))
    again = fetch_run_claim(provider="FRED", dataset="DGS10", window=fetch.window)

    dead.refresh_from_db()
    assert again is not None and again.pk != dead.pk
    assert (dead.status, dead.error_code) == ("failed", "claim_expired")
