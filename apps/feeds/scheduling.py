"""Fetching by publication calendar (decision 0036): every minute (beat) each feed whose latest publication's
expected time has passed, and whose window has not landed (the watermark is short of its end), gets one
``feeds.fetch`` of that window on the ``feeds`` queue.

A window is sent once (a ``ScheduledFetch`` row, claimed by its insert or by a conditional update), then
again only every ``AURUM_FEEDS_SCHEDULE_RETRY_MINUTES`` while it has not landed (the provider was late, or
the fetch failed): never a send per minute, whatever the number of beat processes. Older publications that
were missed are the backfills' work, not the scheduler's.

An intraday contract (real-time prices, decision 0042) publishes an interval every few minutes: each interval
expected within the last ``AURUM_FEEDS_INTRADAY_CATCHUP_MINUTES`` that no succeeded fetch covers is a window
of its own, sent once like a daily one (a late provider or a failed fetch does not leave a gap behind the
newest interval); the FetchRun claim keeps two workers off one interval.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from apps.feeds.contracts import FEED_CONTRACTS
from apps.feeds.models import FetchRun, ScheduledFetch, Watermark
from aurum.celery import app as celery_app
from aurum.datasets.contracts import DatasetContract, Publication
from aurum.transient import TRANSIENT_ERRORS

log = structlog.get_logger(__name__)

FETCH_TASK = "feeds.fetch"


def feeds_schedule(*, now: datetime) -> list[tuple[str, str, str]]:
    """Send the fetches due at ``now``; the (provider, dataset, window start) of each sent."""
    marks = {(m.provider, m.dataset): m.fetched_until for m in Watermark.objects.all()}
    retry_before = now - timedelta(minutes=settings.AURUM_FEEDS_SCHEDULE_RETRY_MINUTES)
    # Windows sent within the retry interval need no claim attempt (the claim still decides a race).
    recent = set(
        ScheduledFetch.objects.filter(sent_at__gte=retry_before).values_list(
            "provider", "dataset", "window_start", "window_end"
        )
    )
    catchup = now - timedelta(minutes=settings.AURUM_FEEDS_INTRADAY_CATCHUP_MINUTES)
    fetched = _intraday_fetched(since=catchup - timedelta(hours=1))  # a covering fetch ends after this
    sent = []
    for contract in FEED_CONTRACTS:
        for publication in _due(contract, now, catchup, marks, fetched):
            key = (contract.provider, contract.dataset, publication.period.start, publication.period.end)
            if key in recent:
                continue
            if _claim(contract, publication, now):
                sent.append((contract.provider, contract.dataset, publication.period.start.isoformat()))
    if sent:
        log.info("scheduled feed fetches sent", count=len(sent))
    return sent


def _due(
    contract: DatasetContract,
    now: datetime,
    catchup: datetime,
    marks: dict[tuple[str, str], datetime],
    fetched: dict[tuple[str, str], list[tuple[datetime, datetime]]],
) -> list[Publication]:
    """The contract's publications to fetch at ``now``: the latest one unless landed; for an intraday
    contract every interval expected since ``catchup`` that no succeeded fetch covers."""
    key = (contract.provider, contract.dataset)
    if contract.intraday:
        windows = fetched.get(key, [])
        return [
            p
            for p in contract.intervals_expected(catchup, now)
            if not any(start <= p.period.start and end >= p.period.end for start, end in windows)
        ]
    publication = contract.latest_expected(now)
    if publication is None:
        return []
    until = marks.get(key)
    return [] if until is not None and until >= publication.period.end else [publication]


def _intraday_fetched(*, since: datetime) -> dict[tuple[str, str], list[tuple[datetime, datetime]]]:
    """The succeeded fetch windows of the intraday feeds ending after ``since`` (one query)."""
    keys = {(c.provider, c.dataset) for c in FEED_CONTRACTS if c.intraday}
    found: dict[tuple[str, str], list[tuple[datetime, datetime]]] = {key: [] for key in keys}
    runs = FetchRun.objects.filter(
        status=FetchRun.Status.SUCCEEDED,
        provider__in={p for p, _ in keys},
        dataset__in={d for _, d in keys},
        window_end__gt=since,
    ).values_list("provider", "dataset", "window_start", "window_end")
    for provider, dataset, start, end in runs if keys else []:
        if (provider, dataset) in found:
            found[(provider, dataset)].append((start, end))
    return found


def _claim(contract: DatasetContract, publication: Publication, now: datetime) -> bool:
    """True when this call may send the window: the first to insert its row, or the first to move a row
    older than the retry interval forward."""
    window: dict[str, object] = {
        "provider": contract.provider,
        "dataset": contract.dataset,
        "window_start": publication.period.start,
        "window_end": publication.period.end,
    }
    retry_before = now - timedelta(minutes=settings.AURUM_FEEDS_SCHEDULE_RETRY_MINUTES)
    with transaction.atomic():
        try:
            with transaction.atomic():
                ScheduledFetch.objects.create(**window, publication_day=publication.day, sends=1, sent_at=now)
        except IntegrityError:
            claimed = ScheduledFetch.objects.filter(**window, sent_at__lt=retry_before).update(
                sent_at=now, sends=F("sends") + 1
            )
            if not claimed:
                return False
        args = (
            contract.provider,
            contract.dataset,
            publication.period.start.isoformat(),
            publication.period.end.isoformat(),
        )
        transaction.on_commit(lambda: _send(args))
    return True


def _send(args: tuple[str, str, str, str]) -> None:
    try:
        celery_app.send_task(FETCH_TASK, args=args)
    except TRANSIENT_ERRORS:  # the row says sent: the retry interval sends it again
        log.warning("scheduled feed fetch not sent", args=args, exc_info=True)
