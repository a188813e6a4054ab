"""When a dataset's vintage is late: a business day (Monday to Friday) without its as-of after the dataset's
publication deadline.

Vendors publish each business day's end-of-day workbook on that day (the fixture files are stamped 14:30).
The deadline is ``AURUM_PUBLICATION_DEADLINES`` for the dataset (``vendor:EUGP=17:00``, UTC), else
``AURUM_PUBLICATION_DEADLINE_UTC`` (18:00). Holidays are not known per dataset, so a vendor holiday shows as
late until the next day's file arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings

EOD_PREFIX = "vendor:"


def eod_datasets(datasets: frozenset[str] | set[str]) -> list[str]:
    """The vendor EOD datasets among a licence's (``vendor:EUGP``…), sorted: the ones this deadline applies
    to. Feed licences (``feed:fred``, ``iso:caiso``; apps/feeds) publish by their own calendars."""
    return sorted(dataset for dataset in datasets if dataset.startswith(EOD_PREFIX))


@dataclass(frozen=True)
class Freshness:
    dataset: str
    last_asof: date | None
    expected_asof: date
    deadline: time

    @property
    def late(self) -> bool:
        return self.last_asof is None or self.last_asof < self.expected_asof

    @property
    def business_days_late(self) -> int:
        """Business days after ``last_asof`` up to ``expected_asof`` with no vintage."""
        if self.last_asof is None:
            return 0
        return sum(
            1
            for n in range(1, (self.expected_asof - self.last_asof).days + 1)
            if (self.last_asof + timedelta(days=n)).weekday() < 5
        )

    def seconds_late(self, now: datetime) -> float:
        """How long ago the deadline of the first business day without a vintage passed (0 when not late,
        or when the dataset has no vintage at all: nothing to be late against)."""
        if self.last_asof is None or not self.late:
            return 0.0
        missing = self.last_asof + timedelta(days=1)
        while missing.weekday() >= 5:
            missing += timedelta(days=1)
        due = datetime.combine(missing, self.deadline, tzinfo=UTC)
        return max(0.0, (now - due).total_seconds())


def publication_deadline(dataset: str) -> time:
    deadlines: dict[str, str] = settings.AURUM_PUBLICATION_DEADLINES
    return time.fromisoformat(deadlines.get(dataset, settings.AURUM_PUBLICATION_DEADLINE_UTC))


def expected_asof(*, now: datetime, deadline: time) -> date:
    """The latest business day whose deadline has passed at ``now`` (UTC)."""
    day = now.date() if now.time() >= deadline else now.date() - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def dataset_freshness(*, dataset: str, last_asof: date | None, now: datetime) -> Freshness:
    deadline = publication_deadline(dataset)
    return Freshness(
        dataset=dataset,
        last_asof=last_asof,
        expected_asof=expected_asof(now=now, deadline=deadline),
        deadline=deadline,
    )
