"""Calendar blocks (spec 2.2): local-time hours of a block on a day, and over a range with holidays skipped.

Expected hours are read from calendars.json here, by plain loops, independently of the selectors.
"""

import json
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.reference.selectors import block_hour_count, calendar_block_hours, calendar_expand
from aurum.errors import InvalidInputError, NotFoundError
from tests.support.reference import ORIGINAL

CALENDARS = json.loads((ORIGINAL / "calendars.json").read_text(encoding="utf-8"))
YEAR_2024 = (date(2024, 1, 1), date(2024, 12, 31))


def _rule_hours(calendar: str, block: str, day: date) -> list[int]:
    hours: set[int] = set()
    for rule in CALENDARS[calendar]["blocks"][block]["rules"]:
        if day.isoweekday() in rule["weekdays"]:
            for text in rule["hours"]:
                first, last = text.split("-")
                for hour in range(int(first), int(last) + 1):
                    hours.add(hour)
    return sorted(hours)


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _holidays(calendar: str) -> set[date]:
    return {date.fromisoformat(text) for text in CALENDARS[calendar].get("holidays", [])}


def test_pjm_on_peak_is_07_to_22_on_a_weekday_and_nothing_at_the_weekend(loaded):
    wednesday, saturday, sunday = date(2024, 7, 3), date(2024, 7, 6), date(2024, 7, 7)

    assert calendar_block_hours(calendar="pjm", block="ON_PEAK", day=wednesday) == list(range(7, 23))
    assert calendar_block_hours(calendar="pjm", block="ON_PEAK", day=saturday) == []
    assert calendar_block_hours(calendar="pjm", block="ON_PEAK", day=sunday) == []


def test_pjm_off_peak_is_the_weekday_night_and_the_whole_weekend(loaded):
    assert calendar_block_hours(calendar="pjm", block="OFF_PEAK", day=date(2024, 7, 3)) == [
        0,
        1,
        2,
        3,
        4,
        5,
        6,
        23,
    ]
    assert calendar_block_hours(calendar="pjm", block="OFF_PEAK", day=date(2024, 7, 6)) == list(range(24))


def test_a_pjm_holiday_of_the_file_has_no_hours_unless_holidays_are_included(loaded):
    holiday = next(day for day in sorted(_holidays("pjm")) if day.isoweekday() <= 5)

    assert calendar_block_hours(calendar="pjm", block="ON_PEAK", day=holiday) == []
    assert calendar_block_hours(calendar="pjm", block="ON_PEAK", day=holiday, include_holidays=True) == list(
        range(7, 23)
    )


def test_eu_base_peak_is_08_to_19_on_weekdays_and_base_is_every_hour(loaded):
    wednesday, saturday = date(2024, 7, 3), date(2024, 7, 6)

    assert calendar_block_hours(calendar="eu_base", block="PEAK", day=wednesday) == list(range(8, 20))
    assert calendar_block_hours(calendar="eu_base", block="PEAK", day=saturday) == []
    assert calendar_block_hours(calendar="eu_base", block="BASE", day=saturday) == list(range(24))
    assert calendar_block_hours(calendar="eu_base", block="BASE", day=date(2024, 12, 25)) == []


def test_names_are_matched_regardless_of_case(loaded):
    assert calendar_block_hours(calendar="PJM", block="on_peak", day=date(2024, 7, 3)) == list(range(7, 23))


def test_an_unknown_calendar_or_block_is_not_found(loaded):
    with pytest.raises(NotFoundError) as no_calendar:
        calendar_block_hours(calendar="nowhere", block="ON_PEAK", day=date(2024, 7, 3))
    with pytest.raises(NotFoundError) as no_block:
        calendar_block_hours(calendar="pjm", block="PEAK", day=date(2024, 7, 3))

    assert (no_calendar.value.status, no_calendar.value.detail) == (404, "There is no calendar 'nowhere'.")
    assert (no_block.value.status, no_block.value.detail) == (404, "Calendar 'pjm' has no block 'PEAK'.")


@pytest.mark.parametrize(
    ("calendar", "block"),
    [(calendar, block) for calendar, spec in CALENDARS.items() for block in spec["blocks"]],
)
def test_expanding_a_year_skips_holidays_and_days_without_hours(loaded, calendar, block):
    holidays = _holidays(calendar)
    expected = []
    with_holidays = []
    for day in _days(*YEAR_2024):
        hours = _rule_hours(calendar, block, day)
        if hours:
            with_holidays.append((day, hours))
            if day not in holidays:
                expected.append((day, hours))

    start, end = YEAR_2024
    assert calendar_expand(calendar=calendar, block=block, start=start, end=end) == expected
    assert block_hour_count(calendar=calendar, block=block, start=start, end=end) == sum(
        len(hours) for _, hours in expected
    )
    assert (
        calendar_expand(calendar=calendar, block=block, start=start, end=end, include_holidays=True)
        == with_holidays
    )


def test_pjm_on_peak_2024_is_258_days_of_16_hours(loaded):
    # 262 weekdays in 2024, less the 4 pjm holidays that fall on a weekday.
    assert block_hour_count(calendar="pjm", block="ON_PEAK", start=YEAR_2024[0], end=YEAR_2024[1]) == 258 * 16


def test_on_and_off_peak_cover_every_hour_of_the_year_exactly_once(loaded):
    for calendar in ("pjm", "caiso", "miso"):
        on_peak = calendar_expand(
            calendar=calendar, block="ON_PEAK", start=YEAR_2024[0], end=YEAR_2024[1], include_holidays=True
        )
        off_peak = calendar_expand(
            calendar=calendar, block="OFF_PEAK", start=YEAR_2024[0], end=YEAR_2024[1], include_holidays=True
        )
        hours = [(day, hour) for day, day_hours in on_peak + off_peak for hour in day_hours]
        assert sorted(hours) == [(day, hour) for day in _days(*YEAR_2024) for hour in range(24)], calendar


def test_expanding_takes_two_queries_whatever_the_range(loaded):
    with CaptureQueriesContext(connection) as captured:
        calendar_expand(calendar="ercot", block="ON_PEAK", start=date(2020, 1, 1), end=date(2029, 12, 31))

    # django-tenants may set the search path before a query; only the reads count here.
    reads = [query["sql"] for query in captured.captured_queries if query["sql"].startswith("SELECT")]
    assert len(reads) == 2
    assert all("JOIN" not in sql for sql in reads)


def test_a_range_that_ends_before_it_starts_is_invalid(loaded):
    with pytest.raises(InvalidInputError) as caught:
        calendar_expand(calendar="pjm", block="ON_PEAK", start=date(2024, 7, 3), end=date(2024, 7, 2))

    assert caught.value.status == 400
    assert [(i.field, i.message) for i in caught.value.issues] == [
        ("end", "end 2024-07-02 is before start 2024-07-03.")
    ]
