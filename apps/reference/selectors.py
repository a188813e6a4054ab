"""Reading the shared reference data: the units lookup and calendar block hours (spec 2.2)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import uuid4

from django.core.cache import cache

from apps.reference.catalogs import hour_ranges
from apps.reference.models import Calendar, CalendarBlock, CalendarHoliday, UnitMapping

UNITS_VERSION_KEY = "reference:units:version"

# This process's copy of the units lookup as (version, lookup), valid while the cache holds that version.
# Replaced as one tuple, so a thread never pairs one version with another version's lookup.
_units_memo: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {}


def units_lookup() -> dict[str, tuple[str, str]]:
    """Return every unit mapping as {lookup key: (currency, per_unit)}; see ``UnitMapping.key_for``.

    Cached in each process under a version kept in Django's cache; loading changed units bumps the version,
    so every process reads the table again on its next call. Without the cache (Redis down) it reads the
    table on every call.
    """
    version = cache.get(UNITS_VERSION_KEY)
    if version is None:
        cache.add(UNITS_VERSION_KEY, uuid4().hex, timeout=None)
        version = cache.get(UNITS_VERSION_KEY)
    memo = _units_memo.get("units")
    if memo is not None and memo[0] == version:
        return dict(memo[1])
    lookup = {
        key: (currency, per_unit)
        for key, currency, per_unit in UnitMapping.objects.order_by("units_key", "units_raw").values_list(
            "units_key", "currency", "per_unit"
        )
    }
    if version is not None:
        _units_memo["units"] = (version, lookup)
    return dict(lookup)


def units_resolve(*, units_raw: str) -> tuple[str, str] | None:
    """Return (currency, per_unit) for vendor unit text such as ``$ / MWh``, or None when it is not mapped."""
    return units_lookup().get(UnitMapping.key_for(units_raw))


def units_cache_bump() -> None:
    """Invalidate every process's units lookup (the reference services call this when units change)."""
    # A fresh random version rather than a counter: a counter reset by a cache flush could meet an old memo.
    cache.set(UNITS_VERSION_KEY, uuid4().hex, timeout=None)


def calendar_block_hours(
    *, calendar: str, block: str, day: date, include_holidays: bool = False
) -> list[int]:
    """Return the local-time hours (0-23, ascending) of ``block`` on ``day``; [] on a calendar holiday.

    ``calendar`` is matched lower-case and ``block`` upper-case (``PJM``/``on_peak`` work). Raises
    ``CalendarBlock.DoesNotExist`` for an unknown calendar or block.
    """
    days = calendar_expand(
        calendar=calendar, block=block, start=day, end=day, include_holidays=include_holidays
    )
    return days[0][1] if days else []


def calendar_expand(
    *, calendar: str, block: str, start: date, end: date, include_holidays: bool = False
) -> list[tuple[date, list[int]]]:
    """Return (day, local-time hours of ``block``) for each day from ``start`` to ``end`` (both included) that
    the block has hours on, in date order.

    Holidays of the calendar are skipped unless ``include_holidays``; so are days the block does not cover
    (ON_PEAK on a Sunday). Hours are the wall-clock labels the calendar's rules give; a daylight-saving day is
    not stretched or shortened. Two queries whatever the range.
    """
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    rules = _block_rules(calendar=calendar, block=block)
    holidays: set[date] = set()
    if not include_holidays:
        holidays = set(
            CalendarHoliday.objects.filter(
                calendar_id=calendar.lower(), date__range=(start, end)
            ).values_list("date", flat=True)
        )
    hours_by_weekday = {weekday: _weekday_hours(rules, weekday) for weekday in range(1, 8)}
    days: list[tuple[date, list[int]]] = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        hours = hours_by_weekday[day.isoweekday()]
        if hours and day not in holidays:
            days.append((day, list(hours)))
    return days


def block_hour_count(
    *, calendar: str, block: str, start: date, end: date, include_holidays: bool = False
) -> int:
    """Return how many hours ``block`` covers from ``start`` to ``end``, counted as ``calendar_expand``."""
    return sum(
        len(hours)
        for _, hours in calendar_expand(
            calendar=calendar, block=block, start=start, end=end, include_holidays=include_holidays
        )
    )


def _block_rules(*, calendar: str, block: str) -> list[dict[str, list[Any]]]:
    found = (
        CalendarBlock.objects.filter(calendar_id=calendar.lower(), block=block.upper())
        .values_list("rules", flat=True)
        .first()
    )
    if found is None:
        if not Calendar.objects.filter(name=calendar.lower()).exists():
            raise CalendarBlock.DoesNotExist(f"There is no calendar {calendar!r}.")
        raise CalendarBlock.DoesNotExist(f"Calendar {calendar!r} has no block {block!r}.")
    rules: list[dict[str, list[Any]]] = found
    return rules


def _weekday_hours(rules: list[dict[str, list[Any]]], weekday: int) -> list[int]:
    hours: set[int] = set()
    for rule in rules:
        if weekday in rule["weekdays"]:
            hours.update(hour_ranges(rule["hours"]))
    return sorted(hours)
