"""Usage as it stands: Postgres (flushed) plus Redis (not yet flushed), exact per day and credential."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

import redis
import structlog
from django.db.models import Sum

from apps.usage import meters
from apps.usage.models import UsageDay, UsageFlushBatch
from apps.usage.quotas import METRICS, Month, plan_quota
from tenants.models import Tenant

log = structlog.get_logger(__name__)

Counts = dict[tuple[date, str, str], int]  # (day, credential, metric) -> count


def usage_unflushed(*, tenant: Tenant, prefix: str) -> Counts:
    """Counts in Redis not yet in Postgres for the tenant's keys starting with ``prefix`` (a day or month);
    empty (logged) when Redis cannot be asked. A batch already applied but not yet deleted is skipped."""
    try:
        found = meters.meter_unflushed(prefix=f"{tenant.schema_name}:{prefix}")
    except redis.RedisError as exc:
        log.warning("unflushed usage not read: Redis unavailable", error=str(exc))
        return {}
    batches = {b for key, _ in found if (b := meters.batch_id(key))}
    applied = set(UsageFlushBatch.objects.filter(batch__in=batches).values_list("batch", flat=True))
    counts: Counts = defaultdict(int)
    for key, fields in found:
        if meters.batch_id(key) in applied:
            continue
        day = date.fromisoformat(key.split(":")[4])
        for field, count in fields.items():
            metric, credential = meters.field_split(field)
            counts[(day, credential, metric)] += count
    return counts


def usage_counts(*, tenant: Tenant, start: date, end: date) -> Counts:
    """Every count of the tenant from ``start`` to ``end`` (inclusive), flushed or not."""
    counts: Counts = defaultdict(int)
    rows = UsageDay.objects.filter(tenant=tenant, day__gte=start, day__lte=end).values_list(
        "day", "credential", "metric", "count"
    )
    for day, credential, metric, count in rows:
        counts[(day, credential, metric)] += count
    months = sorted({(d.year, d.month) for d in _months_between(start, end)})
    for year, month in months:
        for (day, credential, metric), count in usage_unflushed(
            tenant=tenant, prefix=f"{year:04d}-{month:02d}"
        ).items():
            if start <= day <= end:
                counts[(day, credential, metric)] += count
    return counts


def _months_between(start: date, end: date) -> list[date]:
    months, current = [], start.replace(day=1)
    while current <= end:
        months.append(current)
        current = date(current.year + (current.month == 12), current.month % 12 + 1, 1)
    return months


def usage_flushed_month(*, tenant: Tenant, month: date) -> dict[str, int]:
    """Per metric, what Postgres holds for the month (the start of a running total)."""
    rows = (
        UsageDay.objects.filter(tenant=tenant, day__gte=month, day__lt=_month_after(month))
        .values("metric")
        .annotate(total=Sum("count"))
    )
    totals = dict.fromkeys(METRICS, 0)
    for row in rows:
        totals[row["metric"]] = int(row["total"])
    return totals


def _month_after(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


@dataclass(frozen=True)
class QuotaStanding:
    metric: str
    limit: int | None
    used: int
    remaining: int | None
    resets_at: datetime


@dataclass(frozen=True)
class UsageReport:
    start: date
    end: date
    days: list[dict[str, object]]  # {day, credential, <metric>: count, ...}, by day then credential
    quotas: list[QuotaStanding]


def usage_report(*, tenant: Tenant, start: date, end: date, now: datetime) -> UsageReport:
    """Per day and credential the counts of each metric, and per metric this month's quota and standing."""
    month = Month.of(now)
    counts = usage_counts(tenant=tenant, start=min(start, month.start), end=max(end, now.date()))
    rows: dict[tuple[date, str], dict[str, object]] = {}
    used = dict.fromkeys(METRICS, 0)
    for (day, credential, metric), count in sorted(counts.items()):
        if month.start <= day < month.resets_at.date() and metric in used:
            used[metric] += count
        if start <= day <= end and count:
            row = rows.setdefault(
                (day, credential), {"day": day, "credential": credential, **dict.fromkeys(METRICS, 0)}
            )
            row[metric] = count
    quotas = []
    for metric in METRICS:
        limit = plan_quota(tenant.plan, metric)
        quotas.append(
            QuotaStanding(
                metric=metric,
                limit=limit,
                used=used[metric],
                remaining=None if limit is None else max(0, limit - used[metric]),
                resets_at=month.resets_at,
            )
        )
    return UsageReport(start=start, end=end, days=[rows[key] for key in sorted(rows)], quotas=quotas)
