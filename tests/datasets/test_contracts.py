"""Dataset contracts: calendars and the publications they give, the registry every dataset is in, and
enforcement at write — a feed's rows failing a quality rule are quarantined with the rule's name and never
reach the lakehouse; rows breaking the schema fail the run (feeds) or the ingest (EOD) with the reason."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import httpx
import pyarrow as pa
import pytest

from apps.datasets.registry import CONTRACTS
from apps.ingestion.contracts import eod_contract_enforce
from apps.ingestion.parsers.errors import ContractSchemaError
from aurum.datasets.calendars import EUROPEAN_EOD, US_FEDERAL, us_federal_holidays
from aurum.datasets.contracts import schema_violations
from tests.support.feeds import fetch_recorded


def test_every_published_dataset_has_a_contract():
    assert sorted(CONTRACTS) == [
        "feed:drought:StateStatistics",
        "feed:eia:natural-gas/pri/fut",
        "feed:fred:CPIAUCSL",
        "feed:fred:DGS10",
        "feed:fred:FEDFUNDS",
        "feed:fred:GDP",
        "feed:fred:UNRATE",
        "feed:noaa:GHCND",
        "iso:caiso:PRC_LMP:DAM",
        "iso:ercot:np4-190-cd/dam_stlmnt_pnt_prices",
        "iso:ercot:np6-905-cd/spp_node_zone_hub",
        "iso:miso:LMP:RT",
        "iso:pjm:da_hrl_lmps",
        "iso:pjm:rt_hrl_lmps",
        "iso:pjm:rt_unverified_fivemin_lmps",
        "vendor:EUGP",
        "vendor:PW",
        "vendor:RP",
        "vendor:SIMPLE",
    ]
    assert {c.licence for c in CONTRACTS.values()} == {
        "feed:drought",
        "feed:eia",
        "feed:fred",
        "feed:noaa",
        "iso:caiso",
        "iso:ercot",
        "iso:miso",
        "iso:pjm",
        "vendor:EUGP",
        "vendor:PW",
        "vendor:RP",
        "vendor:SIMPLE",
    }


def test_us_federal_holidays_of_2024_as_observed():
    assert sorted(us_federal_holidays(2024)) == [
        date(2024, 1, 1),
        date(2024, 1, 15),
        date(2024, 2, 19),
        date(2024, 5, 27),
        date(2024, 6, 19),
        date(2024, 7, 4),
        date(2024, 9, 2),
        date(2024, 10, 14),
        date(2024, 11, 11),
        date(2024, 11, 28),
        date(2024, 12, 25),
    ]
    # 2021-12-25 was a Saturday: observed on Friday the 24th.
    assert date(2021, 12, 24) in us_federal_holidays(2021)
    assert US_FEDERAL.days(date(2024, 7, 3), date(2024, 7, 8)) == [
        date(2024, 7, 3),
        date(2024, 7, 5),
        date(2024, 7, 8),
    ]


def test_a_daily_feed_publishes_the_previous_business_day_after_its_local_time():
    dgs10 = CONTRACTS["feed:fred:DGS10"]

    # Tuesday 2024-07-09 09:00 Chicago (14:00 UTC): Monday's rate; due 4 h later.
    publication = dgs10.publication(date(2024, 7, 9))
    assert publication.expected_at == datetime(2024, 7, 9, 14, 0, tzinfo=UTC)
    assert publication.due_at == datetime(2024, 7, 9, 18, 0, tzinfo=UTC)
    assert (publication.period.start, publication.period.end) == (
        datetime(2024, 7, 8, tzinfo=UTC),
        datetime(2024, 7, 9, tzinfo=UTC),
    )
    # Monday 2024-07-08 covers Friday the 5th (the 4th was a holiday, the weekend has no rate).
    assert dgs10.publication(date(2024, 7, 8)).period.first_day == date(2024, 7, 5)
    # At 13:59 UTC on the 9th the latest expected is still Monday's publication; the next is the 9th's.
    before = datetime(2024, 7, 9, 13, 59, tzinfo=UTC)
    assert dgs10.latest_expected(before).day == date(2024, 7, 8)  # type: ignore[union-attr]
    assert dgs10.next_expected(before).day == date(2024, 7, 9)


def test_monthly_quarterly_and_day_ahead_periods():
    cpi = CONTRACTS["feed:fred:CPIAUCSL"].latest_expected(datetime(2024, 7, 20, tzinfo=UTC))
    gdp = CONTRACTS["feed:fred:GDP"].latest_expected(datetime(2024, 9, 1, tzinfo=UTC))
    dam = CONTRACTS["iso:caiso:PRC_LMP:DAM"].publication(date(2024, 1, 14))

    assert cpi is not None and gdp is not None
    # CPI on the 15th (a Monday in July 2024) covers June; GDP's July release covers Q2.
    assert (cpi.day, cpi.period.start, cpi.period.end) == (
        date(2024, 7, 15),
        datetime(2024, 6, 1, tzinfo=UTC),
        datetime(2024, 7, 1, tzinfo=UTC),
    )
    assert (gdp.day, gdp.period.start, gdp.period.end) == (
        date(2024, 7, 29),  # the 28th was a Sunday
        datetime(2024, 4, 1, tzinfo=UTC),
        datetime(2024, 7, 1, tzinfo=UTC),
    )
    # The day-ahead market of the 15th is published on the 14th, 13:00 Los Angeles.
    assert dam.period.first_day == date(2024, 1, 15)
    assert dam.expected_at == datetime(2024, 1, 14, 21, 0, tzinfo=UTC)


def test_eod_publications_skip_weekends_and_christmas():
    eugp = CONTRACTS["vendor:EUGP"]

    assert [p.day for p in eugp.publications(date(2025, 12, 24), date(2025, 12, 29))] == [
        date(2025, 12, 24),
        date(2025, 12, 29),
    ]
    assert EUROPEAN_EOD.is_publication_day(date(2025, 12, 26)) is False
    assert eugp.publication(date(2025, 7, 1)).due_at == datetime(2025, 7, 1, 16, 0, tzinfo=UTC)  # BST


def test_schema_violations_name_the_missing_mistyped_and_null_columns():
    contract = CONTRACTS["feed:fred:DGS10"]
    table = pa.table({f.name: pa.nulls(2, f.type) for f in contract.schema})
    table = table.drop_columns(["unit"])
    table = table.set_column(table.schema.get_field_index("value"), "value", pa.array(["1", "2"]))

    problems = schema_violations(contract, table)

    assert "column 'unit' is missing" in problems
    assert "column 'value' is string, the contract says double" in problems
    assert "column 'series_id' is required but 2 row(s) are null" in problems


def test_an_eod_write_breaking_its_contract_is_refused_with_the_reason():
    contract = CONTRACTS["vendor:EUGP"]
    rows = pa.table({f.name: pa.nulls(1, f.type) for f in contract.schema})

    with pytest.raises(ContractSchemaError) as refused:
        eod_contract_enforce(dataset="vendor:EUGP", published=rows.drop_columns(["tenor_label"]))

    assert refused.value.code == "contract_schema"
    assert "column 'tenor_label' is missing" in refused.value.message
    assert "column 'curve_key' is required but 1 row(s) are null" in refused.value.message


def _fred_answer(observations: list[tuple[str, str]]) -> httpx.MockTransport:
    body = {
        "count": len(observations),
        "offset": 0,
        "limit": 100000,
        "observations": [
            {"realtime_start": "2024-05-06", "realtime_end": "2024-05-06", "date": d, "value": v}
            for d, v in observations
        ],
    }
    return httpx.MockTransport(lambda request: httpx.Response(200, content=json.dumps(body).encode()))


def test_feed_rows_failing_a_quality_rule_are_quarantined_with_the_reason(feed_lake):
    from apps.feeds.models import FeedQuarantineRow
    from aurum.lakehouse.catalog import get_catalog

    transport = _fred_answer(
        [("2024-04-29", "4.61"), ("2024-04-30", "4.69"), ("2024-04-30", "4.70"), ("2024-05-01", "-250")]
    )
    run = fetch_recorded("FRED", "DGS10", transport=transport)

    stored = get_catalog().load_table("market.series_observation").scan().to_arrow().to_pylist()
    assert (run.status, run.rows, run.rows_quarantined) == ("succeeded", 1, 3)
    assert [(r["period"], r["value"]) for r in stored] == [("2024-04-29", 4.61)]
    held = sorted(
        (q.row["period"], q.row["value"], q.reasons) for q in FeedQuarantineRow.objects.filter(fetch_run=run)
    )
    assert held == [
        ("2024-04-30", 4.69, ["unique_key"]),
        ("2024-04-30", 4.7, ["unique_key"]),
        ("2024-05-01", -250.0, ["value_in_range"]),
    ]


def test_a_refetch_replaces_the_windows_quarantined_rows(feed_lake):
    from apps.feeds.models import FeedQuarantineRow

    fetch_recorded("FRED", "DGS10", transport=_fred_answer([("2024-04-29", "-999")]))
    clean = fetch_recorded("FRED", "DGS10")

    assert (clean.rows, clean.rows_quarantined) == (5, 0)
    assert FeedQuarantineRow.objects.filter(provider="FRED", dataset="DGS10").count() == 0
