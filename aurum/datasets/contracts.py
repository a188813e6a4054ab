"""Dataset contracts (decision 0035): what each published dataset promises, declared in code by the app that
writes it (``apps/ingestion/contracts.py``, ``apps/feeds/contracts.py``) and collected by ``apps/datasets``.

A contract names the dataset (``vendor:EUGP``, ``feed:fred:DGS10``), the licence a tenant needs to see it,
the columns a write must carry (an Arrow schema and the columns that may not be null), its publication
calendar, the local time a publication is expected, the freshness SLA in minutes after that, and the quality
rules whose failing rows are quarantined with the rule's name as the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc

from aurum.datasets.calendars import Calendar, Period, day_period, expected_at

# How far back a contract looks for its latest publication (a quarterly release is at most ~92 days back).
_LOOKBACK_DAYS = 400


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

    def publication(self, day: date) -> Publication:
        at = expected_at(day, self.publish_at, self.zone)
        return Publication(day, at, at + timedelta(minutes=self.sla_minutes), self.period(day))

    def latest_expected(self, now: datetime) -> Publication | None:
        """The newest publication whose expected time is at or before ``now``."""
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
        day = now.date() - timedelta(days=1)
        while True:
            if self.calendar.is_publication_day(day):
                publication = self.publication(day)
                if publication.expected_at > now:
                    return publication
            day += timedelta(days=1)

    def publications(self, first: date, last: date) -> list[Publication]:
        """Every publication from ``first`` to ``last`` (publication days, inclusive)."""
        return [self.publication(day) for day in self.calendar.days(first, last)]

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
