"""Which quota a plan sets for a metric, and the calendar month (UTC) a quota counts over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from apps.usage.models import Metric
from aurum.api.context import RequestContext
from tenants.models import Plan

# The plan field that holds each metric's monthly quota (NULL: unlimited).
QUOTA_FIELDS: dict[str, str] = {
    Metric.API_REQUESTS: "api_requests_per_month",
    Metric.ROWS_SERVED: "rows_per_month",
    Metric.SCENARIO_RUNS: "scenario_runs_per_month",
    Metric.EXPORT_ROWS: "export_rows_per_month",
}
METRICS: tuple[str, ...] = tuple(QUOTA_FIELDS)
THRESHOLDS = (80, 100)  # percent of a quota at which a ``quota.threshold`` event goes out


def plan_quota(plan: Plan, metric: str) -> int | None:
    value = getattr(plan, QUOTA_FIELDS[metric])
    return None if value is None else int(value)


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month_start(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


@dataclass(frozen=True)
class Month:
    """The calendar month (UTC) of ``now``: its first day and when its quotas reset."""

    start: date
    resets_at: datetime

    @classmethod
    def of(cls, now: datetime) -> Month:
        day = now.astimezone(UTC).date()
        following = next_month_start(day)
        return cls(
            start=month_start(day),
            resets_at=datetime(following.year, following.month, 1, tzinfo=UTC),
        )

    def seconds_left(self, now: datetime) -> int:
        return max(1, int((self.resets_at - now).total_seconds() + 0.999))

    def threshold_bound(self, limit: int, percent: int) -> int:
        """The count at which ``percent`` of ``limit`` is reached (at least 1)."""
        return max(1, -(-limit * percent // 100))


def usage_credential(context: RequestContext) -> str:
    """How usage names the request's credential: ``token:<id>`` or ``session:<membership id>``."""
    if context.token is not None:
        return f"token:{context.token.pk}"
    return f"session:{context.membership.pk}"
