"""Counting usage against the plan's monthly quotas, the threshold events, and the flush to Postgres.

``usage_take`` is called while serving (every API request, each curve page, each export, each run
submitted): one Redis round trip that checks the month to date against the quota and counts, atomically.
Redis down: nothing is counted or refused (logged); the request is served. ``usage_flush`` (beat) moves the
counts to UsageDay so that none is lost or counted twice, however a flush dies or races another.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
import structlog
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.usage import meters
from apps.usage.models import Metric, QuotaThreshold, UsageFlushBatch
from apps.usage.quotas import METRICS, THRESHOLDS, Month, plan_quota
from apps.usage.selectors import usage_flushed_month, usage_unflushed
from aurum.api.throttling import Limit, RateState, rate_state_of
from aurum.errors import RateLimitedError
from aurum.events.publish import event_publish_on_commit
from tenants.models import Tenant

log = structlog.get_logger(__name__)

SYSTEM_CREDENTIAL = "system"  # work not done through an API credential (the portal's own forms pass theirs)
QUOTA_EVENT = "quota.threshold"
BATCH_RETENTION = timedelta(days=7)


@dataclass(frozen=True)
class QuotaState:
    """Where the tenant stands against one monthly quota after a take."""

    metric: str
    limit: int | None
    used: int
    resets_at: datetime
    reset_seconds: int

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)

    def headers(self) -> dict[str, str]:
        if self.limit is None:
            return {}
        return {
            "X-Quota-Limit": str(self.limit),
            "X-Quota-Remaining": str(self.remaining),
            "X-Quota-Reset": str(self.reset_seconds),
        }


def quota_exceeded(state: QuotaState, *, asked: int) -> RateLimitedError:
    """The 429 problem of a quota used up: ``quota`` says which, its limit, what was used, when it resets."""
    what = "" if asked == 1 else f" ({asked} asked)"
    return RateLimitedError(
        f"The monthly quota '{state.metric}' of {state.limit} is used up ({state.used} used){what}; "
        f"it resets at {state.resets_at.isoformat()}.",
        slug="quota-exceeded",
        headers={"Retry-After": str(state.reset_seconds), **state.headers()},
        quota={
            "metric": state.metric,
            "limit": state.limit,
            "used": state.used,
            "resets_at": state.resets_at.isoformat().replace("+00:00", "Z"),
        },
    )


def _month_seed(tenant: Tenant, month: Month) -> dict[str, int] | None:
    """Start the month's running totals from Postgres plus the counts not yet flushed; the totals if this
    call set them, None if a concurrent call was first."""
    totals = usage_flushed_month(tenant=tenant, month=month.start)
    for (_, _, metric), count in usage_unflushed(tenant=tenant, prefix=f"{month.start:%Y-%m}").items():
        if metric in totals:
            totals[metric] += count
    seeded = meters.meter_seed(
        schema=tenant.schema_name,
        month=month.start,
        totals=totals,
        expire_at=month.resets_at + timedelta(seconds=meters.MONTH_GRACE_SECONDS),
    )
    return totals if seeded else None


def _meter_args(tenant: Tenant, credential: str, metric: str, now: datetime, month: Month) -> dict[str, Any]:
    return {
        "schema": tenant.schema_name,
        "day": now.astimezone(UTC).date(),
        "month": month.start,
        "credential": credential,
        "metric": metric,
        "limit": plan_quota(tenant.plan, metric),
    }


def usage_take(
    *,
    tenant: Tenant,
    credential: str,
    metric: str,
    amount: int = 1,
    mode: str = "hard",
    now: datetime | None = None,
) -> QuotaState | None:
    """Count ``amount`` of ``metric`` for the credential, unless the month's quota refuses it.

    ``mode``: ``hard`` refuses what would go beyond the quota, ``soft`` refuses once it is reached (a read
    already under way is served whole), ``none`` never refuses (a refund: a negative amount). ``amount=0``
    with ``soft`` only checks. Raises RateLimitedError (429, ``quota-exceeded``) when refused. Crossing 80 %
    or 100 % records a ``quota.threshold`` event once. None (logged) when Redis cannot be asked.
    """
    now = now or timezone.now()
    month = Month.of(now)
    ask = {**_meter_args(tenant, credential, metric, now, month), "amount": amount, "mode": mode}
    try:
        take, seed = _seeded(tenant, month, ask, meters.meter_take(**ask))
    except redis.RedisError as exc:
        log.warning("usage not counted, quota not enforced: Redis unavailable", metric=metric, error=str(exc))
        return None
    return _settle(tenant=tenant, metric=metric, amount=amount, month=month, now=now, take=take, seed=seed)


def _seeded(
    tenant: Tenant, month: Month, ask: dict[str, Any], take: meters.Take
) -> tuple[meters.Take, dict[str, int] | None]:
    """``take``, or, when the month's running total was not there (a new month, Redis lost it), the take
    asked again once the month is seeded, with the seeded totals. Raises redis.RedisError."""
    if take.state != -1:
        return take, None
    seed = _month_seed(tenant, month)
    return meters.meter_take(**ask), seed


def _settle(
    *,
    tenant: Tenant,
    metric: str,
    amount: int,
    month: Month,
    now: datetime,
    take: meters.Take,
    seed: dict[str, int] | None,
) -> QuotaState:
    """Where a take leaves the quota: refused (RateLimitedError) or counted (a crossed threshold recorded)."""
    limit = plan_quota(tenant.plan, metric)
    state = QuotaState(
        metric=metric,
        limit=limit,
        used=take.after,
        resets_at=month.resets_at,
        reset_seconds=month.seconds_left(now),
    )
    if take.state == 0:
        raise quota_exceeded(state, asked=amount)
    if take.state == -1:  # the running total vanished again at once (evicted): not counted
        log.warning("usage not counted: the month's running total could not be kept", metric=metric)
        return state
    if limit is not None and amount > 0:
        for percent in THRESHOLDS:
            bound = month.threshold_bound(limit, percent)
            # Exactly one take moves the running total across a bound. A month seeded already beyond it
            # (Redis lost its keys) is announced by the take that seeded it; the unique row dedupes.
            crossed = take.before < bound or (seed is not None and seed.get(metric, 0) >= bound)
            if take.after >= bound and crossed:
                quota_threshold_record(
                    tenant=tenant, metric=metric, month=month, threshold=percent, limit=limit,
                    used=take.after, now=now,
                )  # fmt: skip
    return state


@dataclass(frozen=True)
class Admission:
    """An API request's admission: where it stands against the rate limit and the API-request quota (None:
    Redis could not be asked, nothing enforced), and the quota's refusal if it refused."""

    rate: RateState | None
    quota: QuotaState | None
    refusal: RateLimitedError | None = None


def usage_admit(*, tenant: Tenant, credential: str, bucket: Limit, now: datetime | None = None) -> Admission:
    """Take a token from the request's rate-limit ``bucket`` and, unless it was empty, count the request
    against the plan's monthly ``api_requests`` quota (hard): one Redis round trip (two when the month's
    running total must be seeded first). A request the rate limit refuses is not counted."""
    now = now or timezone.now()
    month = Month.of(now)
    metric = Metric.API_REQUESTS
    ask = _meter_args(tenant, credential, metric, now, month)
    try:
        reply, take = meters.meter_admit(bucket=bucket, **ask)
    except redis.RedisError as exc:
        log.warning("rate limit and API quota not enforced: Redis unavailable", error=str(exc))
        return Admission(rate=None, quota=None)
    rate = rate_state_of(reply, burst=bucket.burst, per_second=bucket.per_second)
    if take is None:  # refused by the rate limit: not served, not counted
        return Admission(rate=rate, quota=None)
    try:
        take, seed = _seeded(tenant, month, {**ask, "amount": 1, "mode": "hard"}, take)
    except redis.RedisError as exc:
        log.warning("usage not counted, quota not enforced: Redis unavailable", metric=metric, error=str(exc))
        return Admission(rate=rate, quota=None)
    try:
        quota = _settle(tenant=tenant, metric=metric, amount=1, month=month, now=now, take=take, seed=seed)
    except RateLimitedError as refused:
        return Admission(rate=rate, quota=None, refusal=refused)
    return Admission(rate=rate, quota=quota)


def quota_threshold_record(
    *, tenant: Tenant, metric: str, month: Month, threshold: int, limit: int, used: int, now: datetime
) -> bool:
    """Record that the tenant reached ``threshold`` % of a quota this month, with its ``quota.threshold``
    event, once: False (nothing recorded) when it was already."""
    try:
        with transaction.atomic():
            QuotaThreshold.objects.create(
                tenant=tenant,
                metric=metric,
                month=month.start,
                threshold=threshold,
                limit=limit,
                used=used,
                created_at=now,
            )
            event_publish_on_commit(
                schema_name=tenant.schema_name,
                event_type=QUOTA_EVENT,
                payload={
                    "metric": metric,
                    "threshold": threshold,
                    "limit": limit,
                    "used": used,
                    "month": f"{month.start:%Y-%m}",
                    "resets_at": month.resets_at.isoformat().replace("+00:00", "Z"),
                    "usage_url": "/api/v2/usage",
                },
            )
    except IntegrityError:  # another request recorded it first
        return False
    return True


@dataclass(frozen=True)
class FlushResult:
    batches: int  # batches applied by this flush
    counts: int  # (tenant, day, credential, metric) rows added to


_UPSERT = (
    "INSERT INTO usage_usageday (tenant_id, day, credential, metric, count) VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (tenant_id, day, credential, metric) DO UPDATE SET count = usage_usageday.count + "
    "EXCLUDED.count"
)


def usage_batch_apply(*, key: str, now: datetime | None = None) -> int:
    """Add one batch's counts to UsageDay, once: 0 when it was applied already (by this flush's earlier
    attempt or by a concurrent flush, which holds the batch's row until it commits) or is empty."""
    schema, day, batch = meters.batch_parts(key)
    counts = meters.meter_batch_read(key)
    if not counts:
        return 0
    tenant_id = Tenant.objects.filter(schema_name=schema).values_list("pk", flat=True).first()
    merged: dict[tuple[str, str], int] = defaultdict(int)
    for field, count in counts.items():
        metric, credential = meters.field_split(field)
        if metric in METRICS and count:
            merged[(credential, metric)] += count
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO usage_usageflushbatch (batch, flushed_at) VALUES (%s, %s) "
                "ON CONFLICT DO NOTHING RETURNING batch",
                [batch, now or timezone.now()],
            )
            if cursor.fetchone() is None or tenant_id is None:
                return 0
            # In key order: two flushes applying two batches of one day lock the same rows in the same
            # order, so one waits for the other instead of both deadlocking (Redis lists a hash's fields in
            # any order).
            rows = sorted(merged.items())
            cursor.executemany(
                _UPSERT, [(tenant_id, day, credential, metric, n) for (credential, metric), n in rows]
            )
    return len(merged)


def usage_flush(*, now: datetime | None = None) -> FlushResult:
    """Move every unflushed count from Redis to UsageDay. Safe to kill at any point and to run twice at once:
    the day hashes are renamed to batches atomically, each batch is applied in one transaction under its
    unique id, and deleted only after that committed."""
    now = now or timezone.now()
    applied = rows = 0
    for key in meters.meter_move_dirty():
        added = usage_batch_apply(key=key, now=now)
        applied += added > 0
        rows += added
        meters.meter_batch_done(key)
    UsageFlushBatch.objects.filter(flushed_at__lt=now - BATCH_RETENTION).delete()
    return FlushResult(batches=applied, counts=rows)
