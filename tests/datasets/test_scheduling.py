"""Fetching by publication calendar: each minute the feeds whose latest publication is expected and has not
landed get one fetch of that publication's window; never twice in a row, again only after the retry
interval while it has not landed, never once it has."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apps.feeds.contracts import FEED_CONTRACTS
from apps.feeds.models import FetchRun, ScheduledFetch, Watermark
from apps.feeds.scheduling import feeds_schedule

NOW = datetime(2030, 3, 6, 20, 0, tzinfo=UTC)  # a Wednesday no test has data for


def test_each_due_window_is_sent_once_then_again_after_the_retry_interval(
    world, settings, django_capture_on_commit_callbacks
):
    settings.AURUM_FEEDS_SCHEDULE_RETRY_MINUTES = 15
    # From no fetch at all (inside this test's transaction, rolled back after): a row another test committed
    # and left (CI saw 11 of 12 daily sends once) must not decide what this one sees.
    ScheduledFetch.objects.all().delete()
    FetchRun.objects.all().delete()
    Watermark.objects.all().delete()
    with django_capture_on_commit_callbacks() as first_sends:
        first = feeds_schedule(now=NOW)
    with django_capture_on_commit_callbacks() as repeat_sends:
        repeat = feeds_schedule(now=NOW + timedelta(minutes=1))
    later = feeds_schedule(now=NOW + timedelta(minutes=16))

    daily = [c for c in FEED_CONTRACTS if not c.intraday]
    intraday = {(c.provider, c.dataset) for c in FEED_CONTRACTS if c.intraday}
    assert len(first) == len(first_sends)
    assert len([s for s in first if s[:2] not in intraday]) == len(daily) == 12
    # The real-time feeds: each interval of the two hours' catch-up (decision 0042): MISO, PJM, ERCOT.
    assert len([s for s in first if s[:2] in intraday]) == 24 + 24 + 8
    assert ("FRED", "DGS10", "2030-03-05T00:00:00+00:00") in first
    # At 20:00 UTC tomorrow's day-ahead market is not out (13:00 Los Angeles = 21:00 UTC): today's is asked.
    assert ("CAISO", "PRC_LMP:DAM", "2030-03-06T00:00:00+00:00") in first
    assert (repeat, repeat_sends) == ([], [])

    def daily_only(sent: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
        return sorted(s for s in sent if s[:2] not in intraday)

    assert daily_only(later) == daily_only(first)
    resent = ScheduledFetch.objects.exclude(dataset__in=[d for _, d in intraday])
    assert set(resent.values_list("sends", flat=True)) == {2}


def test_a_landed_window_is_not_fetched_and_an_early_minute_asks_for_the_previous_publication(world):
    run = FetchRun.objects.create(
        provider="FRED",
        dataset="DGS10",
        window_start=datetime(2030, 3, 5, tzinfo=UTC),
        window_end=datetime(2030, 3, 6, tzinfo=UTC),
        status="succeeded",
    )
    Watermark.objects.create(provider="FRED", dataset="DGS10", fetched_until=run.window_end, last_run=run)

    landed = feeds_schedule(now=NOW)
    early = feeds_schedule(now=datetime(2030, 3, 6, 14, 59, tzinfo=UTC))  # 08:59 in Chicago

    assert not [s for s in landed if s[:2] == ("FRED", "DGS10")]
    # Before 09:00 Chicago the latest publication is Tuesday's, of Monday's rate — landed long ago too.
    assert not [s for s in early if s[:2] == ("FRED", "DGS10")]
    assert ScheduledFetch.objects.filter(provider="FRED", dataset="DGS10").count() == 0
