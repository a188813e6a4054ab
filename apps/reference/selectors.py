"""Reading the shared reference data: the units lookup and calendar block hours (spec 2.2), and the
catalogs the metadata API lists. Unknown calendars, blocks and locations are ``NotFoundError``."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db.models import Q, QuerySet

from apps.reference.catalogs import hour_ranges
from apps.reference.models import Calendar, CalendarBlock, CalendarHoliday, IsoNode, UnitMapping
from aurum.errors import InvalidInputError, NotFoundError

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
    ``NotFoundError`` for an unknown calendar or block.
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
    not stretched or shortened. Two queries whatever the range. ``InvalidInputError`` when ``end`` is before
    ``start``; ``NotFoundError`` for an unknown calendar or block.
    """
    if end < start:
        raise InvalidInputError.field("end", f"end {end} is before start {start}.")
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


def calendar_block_datetimes(*, calendar: Calendar, block: str, start: date, end: date) -> list[str]:
    """The hours of ``block`` from ``start`` to ``end`` as ISO datetimes in the calendar's zone."""
    zone = ZoneInfo(calendar.timezone)
    return [
        datetime(day.year, day.month, day.day, hour, tzinfo=zone).isoformat()
        for day, hours in calendar_expand(calendar=calendar.name, block=block, start=start, end=end)
        for hour in hours
    ]


# --- the catalogs the metadata API lists ------------------------------------------------------------------


def calendar_list() -> QuerySet[Calendar]:
    return Calendar.objects.order_by("name")


def calendar_get(*, name: str) -> Calendar:
    """The calendar (matched lower-case), or NotFoundError."""
    calendar = Calendar.objects.filter(name=name.lower()).first()
    if calendar is None:
        raise NotFoundError(f"Unknown calendar '{name}'.")
    return calendar


def calendar_block_names(*, calendar: Calendar) -> QuerySet[CalendarBlock, str]:
    return CalendarBlock.objects.filter(calendar=calendar).order_by("block").values_list("block", flat=True)


def iso_node_list(*, iso: str | None = None, prefix: str | None = None) -> QuerySet[IsoNode]:
    """Locations of ``iso`` (any case) whose name or id starts with ``prefix`` (any case), by ISO and id."""
    nodes = IsoNode.objects.order_by("iso_id", "location_id")
    if iso:
        nodes = nodes.filter(iso_id=iso.upper())
    if prefix:
        nodes = nodes.filter(Q(location_name__istartswith=prefix) | Q(location_id__istartswith=prefix))
    return nodes


def iso_node_get(*, iso: str, location_id: str) -> IsoNode:
    node = IsoNode.objects.filter(iso_id=iso.upper(), location_id=location_id).first()
    if node is None:
        raise NotFoundError(f"Unknown location '{location_id}' for ISO '{iso.upper()}'.")
    return node


def unit_mapping_list(*, prefix: str | None = None) -> QuerySet[UnitMapping]:
    """Unit mappings whose unit text starts with ``prefix`` (any case), by unit text."""
    mappings = UnitMapping.objects.order_by("units_raw")
    if prefix:
        mappings = mappings.filter(units_raw__istartswith=prefix)
    return mappings


def units_canonical(*, prefix: str = "") -> dict[str, list[str]]:
    """The currencies and the units the mappings resolve to, each starting with ``prefix`` (any case)."""
    wanted = prefix.upper()
    pairs = list(UnitMapping.objects.values_list("currency", "per_unit"))
    return {
        "currencies": sorted({currency for currency, _ in pairs if currency.upper().startswith(wanted)}),
        "units": sorted({unit for _, unit in pairs if unit.upper().startswith(wanted)}),
    }


def _block_rules(*, calendar: str, block: str) -> list[dict[str, list[Any]]]:
    found = (
        CalendarBlock.objects.filter(calendar_id=calendar.lower(), block=block.upper())
        .values_list("rules", flat=True)
        .first()
    )
    if found is None:
        if not Calendar.objects.filter(name=calendar.lower()).exists():
            raise NotFoundError(f"There is no calendar {calendar!r}.")
        raise NotFoundError(f"Calendar {calendar!r} has no block {block!r}.")
    rules: list[dict[str, list[Any]]] = found
    return rules


def _weekday_hours(rules: list[dict[str, list[Any]]], weekday: int) -> list[int]:
    hours: set[int] = set()
    for rule in rules:
        if weekday in rule["weekdays"]:
            hours.update(hour_ranges(rule["hours"]))
    return sorted(hours)
