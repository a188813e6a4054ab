"""The feeds' dataset contracts (decision 0035): one per (provider, dataset) of ``apps.feeds.datasets``, id
``{licence}:{dataset}`` (``feed:fred:DGS10``, ``iso:caiso:PRC_LMP:DAM``).

Each says when the provider publishes (calendar, local time) and which data a publication covers (the window
a scheduled fetch asks for), its SLA, and its quality rules: a row failing one is quarantined
(``FeedQuarantineRow``) with the rule's name, never written to the lakehouse. The times are the providers'
documented release times, rounded; a provider that publishes later than its contract says shows as late.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from apps.feeds.datasets import DATASETS, FRED_SERIES, LICENCES
from apps.ingestion.parsers.quality import QualityRule
from aurum.datasets.calendars import DAILY, THURSDAYS, US_FEDERAL, Calendar, Period, day_period
from aurum.datasets.contracts import DatasetContract
from aurum.lakehouse.feed_tables import DROUGHT_USDM_ARROW, ISO_LMP_ARROW, SERIES_OBSERVATION_ARROW


def in_range(column: str, low: float, high: float) -> QualityRule:
    """Passes a null (a missing value is the provider's, not out of range) and values in [low, high]."""

    def check(table: pa.Table) -> np.ndarray:
        values = table.column(column)
        inside = pc.and_(pc.greater_equal(values, low), pc.less_equal(values, high))
        return pc.fill_null(inside, True).to_numpy(zero_copy_only=False)

    return QualityRule(f"{column}_in_range", f"{column} lies within [{low:g}, {high:g}]", True, check)


def unique_key(columns: Sequence[str]) -> QualityRule:
    """One row per key: every row of a key that occurs more than once fails (which is right is unknown)."""

    def check(table: pa.Table) -> np.ndarray:
        if table.num_rows == 0:
            return np.ones(0, dtype=bool)
        keyed = table.select(list(columns)).append_column("row", pa.array(np.arange(table.num_rows)))
        counts = keyed.group_by(list(columns), use_threads=False).aggregate([("row", "count")])
        repeated = counts.filter(pc.greater(counts.column("row_count"), 1)).drop_columns(["row_count"])
        passes = np.ones(table.num_rows, dtype=bool)
        if repeated.num_rows:
            failing = keyed.join(repeated, keys=list(columns), join_type="inner").column("row")
            passes[failing.to_numpy()] = False
        return passes

    names = ", ".join(columns)
    return QualityRule("unique_key", f"one row per ({names})", True, check)


def _previous_business_day(day: date) -> Period:
    return day_period(US_FEDERAL.previous(day, inclusive=False))


def _previous_day(day: date) -> Period:
    return day_period(day - timedelta(days=1))


def _next_day(day: date) -> Period:
    return day_period(day + timedelta(days=1))


def _local_days(zone: str, first: int, last: int) -> Callable[[date], Period]:
    """The local days ``first`` to ``last`` (offsets from the release day, inclusive) in ``zone``, as UTC: an
    ISO's operating days (23 or 25 hours on the days the clocks change)."""

    def period(day: date) -> Period:
        tz = ZoneInfo(zone)
        start = datetime.combine(day + timedelta(days=first), time(0), tzinfo=tz)
        end = datetime.combine(day + timedelta(days=last + 1), time(0), tzinfo=tz)
        return Period(start.astimezone(UTC), end.astimezone(UTC))

    return period


def _pjm_settlement_days(day: date) -> Period:
    """PJM posts the verified hourly real-time LMPs around noon of the next business day: a Monday's posting
    holds Friday to Sunday (a holiday's days go with the next business day's)."""
    previous = US_FEDERAL.previous(day, inclusive=False)
    return _local_days("America/New_York", (previous - day).days, -1)(day)


def _usdm_week(day: date) -> Period:
    """The week ending the Tuesday before a Thursday's release (the map's valid date)."""
    start = datetime.combine(day - timedelta(days=8), time(0), tzinfo=UTC)
    return Period(start, start + timedelta(days=7))


def _months_back(months: int) -> Callable[[date], Period]:
    """The ``months`` whole months before the release's month (1: the previous month; 3: the quarter)."""

    def period(day: date) -> Period:
        end = datetime(day.year, day.month, 1, tzinfo=UTC)
        month_index = day.year * 12 + day.month - 1 - months
        start = datetime(month_index // 12, month_index % 12 + 1, 1, tzinfo=UTC)
        return Period(start, end)

    return period


SERIES_KEY = unique_key(("series_id", "ts"))
LMP_RULES = (
    unique_key(("location_id", "interval_start")),
    in_range("price_total", -2000.0, 20000.0),
)
USDM_RULES = (
    unique_key(("region_id", "valid_date")),
    *(in_range(f"d{n}_frac", 0.0, 1.0) for n in range(5)),
)

# (calendar, local time, zone, SLA minutes, period of a release, extra rules)
_Schedule = tuple[Calendar, time, str, int, Callable[[date], Period], tuple[QualityRule, ...]]
_MONTHLY = {
    # BLS CPI mid-month, the jobs report early in the month, the Fed's monthly average on the first
    # business day, BEA's GDP advance estimate at the end of the month after a quarter.
    "CPIAUCSL": (Calendar("monthly-15th", holidays=US_FEDERAL.holidays, monthly_on=15), 1),
    "UNRATE": (Calendar("monthly-7th", holidays=US_FEDERAL.holidays, monthly_on=7), 1),
    "FEDFUNDS": (Calendar("monthly-1st", holidays=US_FEDERAL.holidays, monthly_on=1), 1),
    "GDP": (
        Calendar(
            "quarterly-28th", holidays=US_FEDERAL.holidays, monthly_on=28, months=frozenset({1, 4, 7, 10})
        ),
        3,
    ),
}
SCHEDULES: dict[tuple[str, str], _Schedule] = {
    ("EIA", "natural-gas/pri/fut"): (
        US_FEDERAL,
        time(12, 0),
        "America/New_York",
        360,
        _previous_business_day,
        (in_range("value", -50.0, 1000.0),),
    ),
    ("NOAA", "GHCND"): (DAILY, time(12, 0), "UTC", 720, _previous_day, (in_range("value", -100.0, 2000.0),)),
    ("CAISO", "PRC_LMP:DAM"): (DAILY, time(13, 0), "America/Los_Angeles", 120, _next_day, LMP_RULES),
    ("MISO", "LMP:RT"): (DAILY, time(0), "America/Chicago", 15, day_period, LMP_RULES),
    ("PJM", "da_hrl_lmps"): (
        DAILY,
        time(13, 30),
        "America/New_York",
        150,
        _local_days("America/New_York", 1, 1),
        LMP_RULES,
    ),
    ("PJM", "rt_hrl_lmps"): (
        US_FEDERAL,
        time(12, 0),
        "America/New_York",
        240,
        _pjm_settlement_days,
        LMP_RULES,
    ),
    ("PJM", "rt_unverified_fivemin_lmps"): (DAILY, time(0), "America/New_York", 15, day_period, LMP_RULES),
    ("ERCOT", "np4-190-cd/dam_stlmnt_pnt_prices"): (
        DAILY,
        time(13, 30),
        "America/Chicago",
        120,
        _local_days("America/Chicago", 1, 1),
        LMP_RULES,
    ),
    ("ERCOT", "np6-905-cd/spp_node_zone_hub"): (DAILY, time(0), "America/Chicago", 20, day_period, LMP_RULES),
    ("USDM", "StateStatistics"): (THURSDAYS, time(8, 30), "America/New_York", 240, _usdm_week, USDM_RULES),
    **{
        ("FRED", series): (
            _MONTHLY[series][0] if series in _MONTHLY else US_FEDERAL,
            time(9, 0) if series not in _MONTHLY else time(8, 30),
            "America/Chicago" if series not in _MONTHLY else "America/New_York",
            240,
            _months_back(_MONTHLY[series][1]) if series in _MONTHLY else _previous_business_day,
            (in_range("value", -100.0, 1e9),),
        )
        for series in FRED_SERIES
    },
}
# Real-time prices publish an interval at a time (decision 0042): (cadence, lag after the interval ends), in
# minutes. MISO's Data Broker and PJM's unverified five-minute LMPs post within minutes; ERCOT's 15-minute
# settlement point prices a few minutes after the interval.
INTRADAY: dict[tuple[str, str], tuple[int, int]] = {
    ("MISO", "LMP:RT"): (5, 5),
    ("PJM", "rt_unverified_fivemin_lmps"): (5, 10),
    ("ERCOT", "np6-905-cd/spp_node_zone_hub"): (15, 10),
}
_KINDS = {
    "series": (SERIES_OBSERVATION_ARROW, ("provider", "dataset", "series_id", "ts"), (SERIES_KEY,)),
    "lmp": (ISO_LMP_ARROW, ("iso_code", "market", "location_id", "interval_start", "price_total"), ()),
    "usdm": (DROUGHT_USDM_ARROW, ("region_type", "region_id", "valid_date"), ()),
}


def feed_contract_id(provider: str, dataset: str) -> str:
    return f"{LICENCES[provider]}:{dataset}"


def _contract(provider: str, dataset: str) -> DatasetContract:
    feed = DATASETS[(provider, dataset)]
    calendar, at, zone, sla, period, rules = SCHEDULES[(provider, dataset)]
    schema, required, kind_rules = _KINDS[feed.kind]
    cadence, lag = INTRADAY.get((provider, dataset), (0, 0))
    return DatasetContract(
        id=feed_contract_id(provider, dataset),
        title=f"{provider} {dataset}",
        kind="feed",
        licence=LICENCES[provider],
        schema=schema,
        required=required,
        calendar=calendar,
        publish_at=at,
        zone=zone,
        sla_minutes=sla,
        rules=(*kind_rules, *rules),
        period=period,
        provider=provider,
        dataset=dataset,
        cadence_minutes=cadence,
        lag_minutes=lag,
    )


FEED_CONTRACTS: tuple[DatasetContract, ...] = tuple(_contract(p, d) for (p, d) in DATASETS)


def feed_contract_for(provider: str, dataset: str) -> DatasetContract:
    return next(c for c in FEED_CONTRACTS if (c.provider, c.dataset) == (provider, dataset))
