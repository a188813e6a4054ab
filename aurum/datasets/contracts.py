"""Dataset contracts (decision 0035): what each published dataset promises, declared in code by the app that
writes it (``apps/ingestion/contracts.py``, ``apps/feeds/contracts.py``) and collected by ``apps/datasets``.

A contract names the dataset (``vendor:EUGP``, ``feed:fred:DGS10``), the licence a tenant needs to see it,
the columns a write must carry (an Arrow schema and the columns that may not be null), its publication
calendar, the local time a publication is expected, the freshness SLA in minutes after that, and the quality
rules whose failing rows are quarantined with the rule's name as the reason.

An *intraday* contract (``cadence_minutes`` > 0: real-time prices every 5 or 15 minutes, or hourly) publishes
one interval at a time instead: each interval ``[start, start + cadence)`` (aligned on the cadence in UTC)
is expected ``lag_minutes`` after it ends and late ``sla_minutes`` after that. Its publications are the
intervals, so the scheduler, freshness and backfills handle each interval as a window of its own
(decision 0042).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc

from aurum.datasets.calendars import DAILY, Calendar, Period, day_period, expected_at

# How far back a contract looks for its latest publication (a quarterly release is at most ~92 days back).
_LOOKBACK_DAYS = 400
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Rule(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...


@dataclass(frozen=True)
class Publication:
    day: date  # the publication (business) day
    expected_at: datetime  # UTC
    due_at: datetime  # expected_at + the SLA: late after this without the vintage
    period: Period  # the data it covers


@dataclass(frozen=True)
class DatasetContract:
    id: str
    title: str
    kind: str  # "vendor_eod" or "feed"
    licence: str
    schema: pa.Schema
    required: tuple[str, ...]
    calendar: Calendar
    publish_at: time
    zone: str
    sla_minutes: int
    rules: tuple[Rule, ...] = ()
    period: Callable[[date], Period] = field(default=day_period, compare=False)
    provider: str = ""  # feeds: the (provider, dataset) apps.feeds fetches
    dataset: str = ""
    # Intraday publication: one interval of this many minutes at a time, expected lag_minutes after it ends.
    cadence_minutes: int = 0
    lag_minutes: int = 0

    def __post_init__(self) -> None:
        if self.cadence_minutes and (1440 % self.cadence_minutes or self.calendar != DAILY):
            raise ValueError("an intraday cadence divides the day and publishes every day")

    @property
    def intraday(self) -> bool:
        return self.cadence_minutes > 0

    def publication(self, day: date) -> Publication:
        at = expected_at(day, self.publish_at, self.zone)
        return Publication(day, at, at + timedelta(minutes=self.sla_minutes), self.period(day))

    def interval_publication(self, start: datetime) -> Publication:
        """The publication of the interval starting at ``start`` (an intraday contract)."""
        end = start + timedelta(minutes=self.cadence_minutes)
        at = end + timedelta(minutes=self.lag_minutes)
        day = start.astimezone(UTC).date()
        return Publication(day, at, at + timedelta(minutes=self.sla_minutes), Period(start, end))

    def interval_floor(self, moment: datetime) -> datetime:
        """The start of the interval holding ``moment`` (intervals are aligned on the cadence in UTC)."""
        step = timedelta(minutes=self.cadence_minutes)
        return _EPOCH + ((moment - _EPOCH) // step) * step

    def intervals_expected(self, since: datetime, now: datetime) -> list[Publication]:
        """The intervals expected after ``since`` and at or before ``now``, oldest first."""
        lag = timedelta(minutes=self.cadence_minutes + self.lag_minutes)
        step = timedelta(minutes=self.cadence_minutes)
        last, start = self.interval_floor(now - lag), self.interval_floor(since - lag) + step
        found = []
        while start <= last:
            found.append(self.interval_publication(start))
            start += step
        return found

    def latest_expected(self, now: datetime) -> Publication | None:
        """The newest publication whose expected time is at or before ``now``."""
        if self.intraday:
            lag = timedelta(minutes=self.cadence_minutes + self.lag_minutes)
            return self.interval_publication(self.interval_floor(now - lag))
        day = now.date() + timedelta(days=1)
        for _ in range(_LOOKBACK_DAYS):
            if self.calendar.is_publication_day(day):
                publication = self.publication(day)
                if publication.expected_at <= now:
                    return publication
            day -= timedelta(days=1)
        return None

    def next_expected(self, now: datetime) -> Publication:
        """The first publication expected after ``now``."""
        if self.intraday:
            latest = self.latest_expected(now)
            assert latest is not None
            return self.interval_publication(latest.period.end)
        day = now.date() - timedelta(days=1)
        while True:
            if self.calendar.is_publication_day(day):
                publication = self.publication(day)
                if publication.expected_at > now:
                    return publication
            day += timedelta(days=1)

    def publications(self, first: date, last: date) -> list[Publication]:
        """Every publication from ``first`` to ``last`` (publication days, inclusive); for an intraday
        contract every interval starting on those (UTC) days."""
        if self.intraday:
            start = datetime.combine(first, time(0), tzinfo=UTC)
            end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC)
            step = timedelta(minutes=self.cadence_minutes)
            return [self.interval_publication(start + i * step) for i in range((end - start) // step)]
        return [self.publication(day) for day in self.calendar.days(first, last)]

    def publication_of(self, day: date, period_start: datetime | None) -> Publication:
        """The publication a freshness state records: its day, or for an intraday contract its interval."""
        if self.intraday and period_start is not None:
            return self.interval_publication(period_start)
        return self.publication(day)

    def describe(self) -> dict[str, object]:
        """The contract as the API shows it."""
        return {
            "schema": [
                {"name": f.name, "type": str(f.type), "required": f.name in self.required}
                for f in self.schema
            ],
            "calendar": self.calendar.name,
            "expected_at_local": self.publish_at.isoformat(timespec="minutes"),
            "time_zone": self.zone,
            "sla_minutes": self.sla_minutes,
            "cadence_minutes": self.cadence_minutes or None,
            "lag_minutes": self.lag_minutes if self.intraday else None,
            "quality_rules": [{"name": r.name, "description": r.description} for r in self.rules],
        }


def schema_violations(contract: DatasetContract, table: pa.Table) -> list[str]:
    """What makes ``table`` break the contract's schema: a missing column, a column of another type, a
    required column holding nulls. Empty when it conforms."""
    problems: list[str] = []
    for expected in contract.schema:
        if expected.name not in table.column_names:
            problems.append(f"column '{expected.name}' is missing")
            continue
        actual = table.schema.field(expected.name).type
        if actual != expected.type:
            problems.append(f"column '{expected.name}' is {actual}, the contract says {expected.type}")
        elif expected.name in contract.required and table.num_rows:
            nulls = int(pc.sum(pc.is_null(table.column(expected.name))).as_py() or 0)
            if nulls:
                problems.append(f"column '{expected.name}' is required but {nulls} row(s) are null")
    return problems
