"""Real-time prices publish an interval every 5 or 15 minutes (decision 0042): an intraday contract's
intervals are each a window — due ``lag`` minutes after the interval ends, fetched once by the scheduler
(also with two beats at the same minute), never again once a fetch covering it succeeded, late per interval
past the SLA, and a backfill splits a day into its intervals. The clock is frozen: every call is given
``now``."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection

from apps.datasets.models import DatasetDayState
from apps.datasets.registry import CONTRACTS
from apps.datasets.services.freshness import dataset_freshness_evaluate
from apps.feeds.models import FetchRun, ScheduledFetch
from apps.feeds.scheduling import feeds_schedule

NOW = datetime(2030, 3, 6, 20, 0, tzinfo=UTC)  # a Wednesday no test has data for
ERCOT_RT = ("ERCOT", "np6-905-cd/spp_node_zone_hub")
MISO_RT = ("MISO", "LMP:RT")


def _sent(sent: list[tuple[str, str, str]], feed: tuple[str, str]) -> list[str]:
    return sorted(start[11:16] for provider, dataset, start in sent if (provider, dataset) == feed)


def _succeeded(feed: tuple[str, str], start: datetime, minutes: int) -> FetchRun:
    return FetchRun.objects.create(
        provider=feed[0],
        dataset=feed[1],
        window_start=start,
        window_end=start + timedelta(minutes=minutes),
        status="succeeded",
    )


def test_an_intraday_contract_publishes_each_interval_after_its_lag():
    ercot = CONTRACTS["iso:ercot:np6-905-cd/spp_node_zone_hub"]

    latest = ercot.latest_expected(NOW)
    upcoming = ercot.next_expected(NOW)

    assert (ercot.cadence_minutes, ercot.lag_minutes, ercot.sla_minutes) == (15, 10, 20)
    # 19:30-19:45 was expected at 19:55; 19:45-20:00 is expected at 20:10.
    assert latest is not None
    assert (latest.period.start, latest.period.end, latest.expected_at, latest.due_at) == (
        datetime(2030, 3, 6, 19, 30, tzinfo=UTC),
        datetime(2030, 3, 6, 19, 45, tzinfo=UTC),
        datetime(2030, 3, 6, 19, 55, tzinfo=UTC),
        datetime(2030, 3, 6, 20, 15, tzinfo=UTC),
    )
    assert (upcoming.period.start, upcoming.expected_at) == (
        datetime(2030, 3, 6, 19, 45, tzinfo=UTC),
        datetime(2030, 3, 6, 20, 10, tzinfo=UTC),
    )
    assert ercot.describe()["cadence_minutes"] == 15 and ercot.describe()["lag_minutes"] == 10
    assert CONTRACTS["iso:ercot:np4-190-cd/dam_stlmnt_pnt_prices"].describe()["cadence_minutes"] is None


def test_each_interval_of_the_catch_up_is_sent_once_and_a_fetched_one_never(world, settings):
    settings.AURUM_FEEDS_INTRADAY_CATCHUP_MINUTES = 60
    settings.AURUM_FEEDS_SCHEDULE_RETRY_MINUTES = 15
    _succeeded(ERCOT_RT, datetime(2030, 3, 6, 19, tzinfo=UTC), 15)

    first = feeds_schedule(now=NOW)
    minute_later = feeds_schedule(now=NOW + timedelta(minutes=1))
    five_later = feeds_schedule(now=NOW + timedelta(minutes=5))

    # Expected within the hour before 20:00: the intervals starting 18:45 to 19:30; 19:00 was fetched.
    assert _sent(first, ERCOT_RT) == ["18:45", "19:15", "19:30"]
    assert _sent(first, MISO_RT) == [
        f"{h}:{m:02d}" for h, m in [(18, 55), *((19, m) for m in range(0, 55, 5))]
    ]
    assert minute_later == []
    # At 20:05 MISO's 19:55 interval is out (five minutes after it ended); nothing is sent twice.
    assert _sent(five_later, MISO_RT) == ["19:55"]
    assert _sent(five_later, ERCOT_RT) == []
    assert ScheduledFetch.objects.filter(provider="ERCOT", dataset=ERCOT_RT[1]).count() == 3
    assert set(ScheduledFetch.objects.values_list("sends", flat=True)) == {1}


def test_an_interval_not_landed_is_sent_again_after_the_retry_interval_only(world, settings):
    settings.AURUM_FEEDS_INTRADAY_CATCHUP_MINUTES = 30
    settings.AURUM_FEEDS_SCHEDULE_RETRY_MINUTES = 15

    first = feeds_schedule(now=NOW)
    _succeeded(ERCOT_RT, datetime(2030, 3, 6, 19, 15, tzinfo=UTC), 15)  # one landed meanwhile
    retried = feeds_schedule(now=NOW + timedelta(minutes=16))

    assert _sent(first, ERCOT_RT) == ["19:15", "19:30"]
    # 19:30 is sent again (not landed); 19:45, expected at 20:10, for the first time; 19:15 landed.
    assert _sent(retried, ERCOT_RT) == ["19:30", "19:45"]
    sends = dict(
        ScheduledFetch.objects.filter(provider="ERCOT", dataset=ERCOT_RT[1]).values_list(
            "window_start__minute", "sends"
        )
    )
    assert sends == {15: 1, 30: 2, 45: 1}


def test_two_beats_at_the_same_minute_send_each_interval_once(committed_world: Any, monkeypatch) -> None:
    """Two beat processes (threads, each its own connection) schedule the same minute together. The sends
    are recorded instead of reaching the broker: a worker there would fetch 2030's intervals from MISO."""
    import apps.feeds.scheduling as scheduling

    messages: list[tuple[Any, ...]] = []
    monkeypatch.setattr(scheduling.celery_app, "send_task", lambda name, args: messages.append(args))
    barrier = threading.Barrier(2, timeout=20)
    results: dict[str, list[tuple[str, str, str]]] = {}
    # Committed: every row the beats make is removed afterwards, whatever its window.
    before = set(ScheduledFetch.objects.values_list("pk", flat=True))

    def beat(name: str) -> None:
        try:
            barrier.wait()
            results[name] = feeds_schedule(now=NOW)
        finally:
            connection.close()

    try:
        threads = [threading.Thread(target=beat, args=(name,)) for name in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        both = results["a"] + results["b"]
        assert sorted(results) == ["a", "b"]
        assert len(both) == len(set(both)) == len(messages)
        assert len({m for m in messages}) == len(messages)
        assert ScheduledFetch.objects.count() == len(both)
        assert len(_sent(both, ERCOT_RT)) == len(
            CONTRACTS["iso:ercot:np6-905-cd/spp_node_zone_hub"].intervals_expected(
                NOW - timedelta(minutes=120), NOW
            )
        )
    finally:
        ScheduledFetch.objects.exclude(pk__in=before).delete()


def test_lateness_is_per_interval_and_recovery_closes_the_one_that_landed(world):
    def ercot_states() -> list[tuple[str, str]]:
        return [
            (s.period_start.strftime("%H:%M") if s.period_start else "-", s.status)
            for s in DatasetDayState.objects.filter(
                dataset="iso:ercot:np6-905-cd/spp_node_zone_hub"
            ).order_by("period_start")
        ]

    dataset_freshness_evaluate(now=NOW)
    dataset_freshness_evaluate(now=NOW + timedelta(minutes=1))
    after_15 = ercot_states()
    dataset_freshness_evaluate(now=NOW + timedelta(minutes=15))
    _succeeded(ERCOT_RT, datetime(2030, 3, 6, 19, 15, tzinfo=UTC), 15)
    recovered = dataset_freshness_evaluate(now=NOW + timedelta(minutes=16))

    # At 20:00 the interval 19:15-19:30 (expected 19:40) is 20 minutes past: late; at 20:15 19:30-19:45 is.
    assert after_15 == [("19:15", "late")]
    assert ercot_states() == [("19:15", "recovered"), ("19:30", "late")]
    assert recovered["recovered"] == 1
    interval_state = DatasetDayState.objects.get(
        dataset="iso:ercot:np6-905-cd/spp_node_zone_hub", period_start__minute=15
    )
    assert interval_state.publication_day.isoformat() == "2030-03-06"


def test_a_backfill_of_a_real_time_feed_runs_one_window_per_interval(world, api):
    answer = api.post(
        "/api/v2/backfills",
        {
            "dataset": "iso:ercot:np6-905-cd/spp_node_zone_hub",
            "from": "2024-11-03",
            "to": "2024-11-03",
            "dry_run": True,
        },
        format="json",
        **world.ops.auth("admin"),
    )

    body = answer.json()["data"]
    assert answer.status_code == 200, answer.content
    assert body["count"] == 96  # a UTC day of quarter hours, whatever the clocks did in Texas
    assert body["windows"][0]["window_start"] == "2024-11-03T00:00:00Z"
    assert body["windows"][0]["window_end"] == "2024-11-03T00:15:00Z"
    assert body["windows"][-1]["window_start"] == "2024-11-03T23:45:00Z"


def test_a_late_interval_is_watched_for_recovery_two_days_only(world):
    ercot = CONTRACTS["iso:ercot:np6-905-cd/spp_node_zone_hub"]
    old, recent = (ercot.interval_publication(NOW - timedelta(days=d)) for d in (3, 1))
    for publication in (old, recent):
        DatasetDayState.objects.create(
            dataset=ercot.id,
            publication_day=publication.day,
            period_start=publication.period.start,
            expected_at=publication.expected_at,
            due_at=publication.due_at,
            late_at=publication.due_at,
        )
        _succeeded(ERCOT_RT, publication.period.start, 15)  # both landed since (a backfill)

    dataset_freshness_evaluate(now=NOW)

    states = dict(
        DatasetDayState.objects.filter(
            dataset=ercot.id, period_start__lt=NOW - timedelta(hours=12)
        ).values_list("publication_day", "status")
    )
    assert states == {old.day: "late", recent.day: "recovered"}
