"""Publication calendars: on which days a dataset publishes, and what period each publication covers.

No exchange-calendar package is pinned; business days are weekdays minus a holiday rule computed in code
(U.S. federal holidays for the U.S. feeds, the common European closing days for the vendor EOD workbooks).
A day a provider closes that the rule does not know shows as late until the next publication lands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The ``n``-th ``weekday`` (0 Monday) of the month; ``n`` = -1 the last."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = (date(year, month % 12 + 1, 1) if month < 12 else date(year + 1, 1, 1)) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    """A Saturday holiday is observed on the Friday before, a Sunday one on the Monday after."""
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


@lru_cache(maxsize=64)
def us_federal_holidays(year: int) -> frozenset[date]:
    """The U.S. federal holidays of ``year`` as observed (the Fed, EIA and NOAA close on them)."""
    return frozenset(
        {
            _observed(date(year, 1, 1)),
            _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
            _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
            _nth_weekday(year, 5, 0, -1),  # Memorial Day
            _observed(date(year, 6, 19)),
            _observed(date(year, 7, 4)),
            _nth_weekday(year, 9, 0, 1),  # Labor Day
            _nth_weekday(year, 10, 0, 2),  # Columbus Day
            _observed(date(year, 11, 11)),
            _nth_weekday(year, 11, 3, 4),  # Thanksgiving
            _observed(date(year, 12, 25)),
        }
    )


@lru_cache(maxsize=64)
def european_closing_days(year: int) -> frozenset[date]:
    """New Year's Day, Christmas and Boxing Day: the days European energy desks publish no EOD prices."""
    return frozenset({date(year, 1, 1), date(year, 12, 25), date(year, 12, 26)})


def no_holidays(year: int) -> frozenset[date]:
    return frozenset()


@dataclass(frozen=True)
class Calendar:
    """Publication days: ``weekdays`` (0 Monday) minus ``holidays(year)``."""

    name: str
    weekdays: frozenset[int] = WEEKDAYS
    holidays: Callable[[int], frozenset[date]] = field(default=no_holidays, compare=False)
    # Monthly releases: the first business day on or after this day of the month, in ``months``.
    monthly_on: int | None = None
    months: frozenset[int] = frozenset(range(1, 13))

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.holidays(day.year)

    def is_publication_day(self, day: date) -> bool:
        if not self.is_business_day(day):
            return False
        if self.monthly_on is None:
            return True
        release = date(day.year, day.month, self.monthly_on)
        while not self.is_business_day(release):
            release += timedelta(days=1)
        return day == release and day.month in self.months

    def previous(self, day: date, *, inclusive: bool = True) -> date:
        """The latest publication day on or before ``day`` (strictly before unless ``inclusive``)."""
        day = day if inclusive else day - timedelta(days=1)
        while not self.is_publication_day(day):
            day -= timedelta(days=1)
        return day

    def next(self, day: date, *, inclusive: bool = True) -> date:
        day = day if inclusive else day + timedelta(days=1)
        while not self.is_publication_day(day):
            day += timedelta(days=1)
        return day

    def days(self, first: date, last: date) -> list[date]:
        """The publication days from ``first`` to ``last``, inclusive."""
        found, day = [], first
        while day <= last:
            if self.is_publication_day(day):
                found.append(day)
            day += timedelta(days=1)
        return found


US_FEDERAL = Calendar("us-federal-business-days", WEEKDAYS, us_federal_holidays)
EUROPEAN_EOD = Calendar("european-business-days", WEEKDAYS, european_closing_days)
DAILY = Calendar("every-day", EVERY_DAY)
THURSDAYS = Calendar("thursdays", frozenset({3}), us_federal_holidays)


@dataclass(frozen=True)
class Period:
    """The half-open UTC range of data one publication covers: what a fetch of it asks for."""

    start: datetime
    end: datetime

    @property
    def first_day(self) -> date:
        return self.start.date()


def day_period(day: date) -> Period:
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return Period(start, start + timedelta(days=1))


def expected_at(day: date, at: time, zone: str) -> datetime:
    """``day`` at the local time ``at`` in ``zone``, in UTC."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone)).astimezone(UTC)
