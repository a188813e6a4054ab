"""Fetching a window: the adapter runs on recorded responses, the rows land in the lakehouse with their
lineage, the run and the watermark record it; failures are a status on the run, never an exception."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import httpx
import pytest
from django.test import override_settings

from apps.feeds.adapters.base import Window
from tests.support.feeds import fetch_recorded


def _rows(table: str) -> list[dict]:
    from aurum.lakehouse.catalog import get_catalog
    from aurum.lakehouse.feed_tables import feed_tables_ensure

    feed_tables_ensure()  # a fetch that wrote nothing created no table
    return sorted(
        get_catalog().load_table(table).scan().to_arrow().to_pylist(),
        key=lambda r: (
            r.get("series_id") or r.get("location_id") or r.get("region_id"),
            str(r.get("ts") or r.get("interval_start") or r.get("valid_date")),
        ),
    )


def test_eia_pages_by_offset_and_lands_with_lineage(feed_lake):
    from apps.feeds.models import Watermark

    seen: list[httpx.Request] = []
    run = fetch_recorded("EIA", "natural-gas/pri/fut", seen=seen)

    assert (run.status, run.rows, run.request_count, run.error_code) == ("succeeded", 5, 2, "")
    assert [r.url.params["offset"] for r in seen] == ["0", "3"]
    assert all(r.url.params["api_key"] == "eia-test-key" for r in seen)
    assert all("api_key" not in entry["url"] for entry in run.requests)
    rows = _rows("market.series_observation")
    assert [(r["series_id"], r["period"], r["value"]) for r in rows] == [
        ("NG.RNGWHHD.D", "2024-04-29", 1.41),
        ("NG.RNGWHHD.D", "2024-04-30", 1.60),
        ("NG.RNGWHHD.D", "2024-05-01", 2.15),
        ("NG.RNGWHHD.D", "2024-05-02", 1.96),
        ("NG.RNGWHHD.D", "2024-05-03", 2.02),
    ]
    assert {(r["unit"], r["canonical_currency"], r["canonical_unit"], r["frequency"]) for r in rows} == {
        ("$/MMBTU", "USD", "MMBtu", "DAILY")
    }
    assert {r["fetch_run_id"] for r in rows} == {run.pk}
    assert {r["response_sha256"] for r in rows} == {entry["sha256"] for entry in run.requests}
    mark = Watermark.objects.get(provider="EIA", dataset="natural-gas/pri/fut")
    assert mark.fetched_until == datetime(2024, 5, 4, tzinfo=UTC)


def test_fred_missing_value_is_null_and_keeps_its_raw_text(feed_lake):
    run = fetch_recorded("FRED", "DGS10")

    rows = _rows("market.series_observation")
    assert run.status == "succeeded" and run.rows == 5
    assert [(r["period"], r["value"], r["value_raw"]) for r in rows][2:] == [
        ("2024-05-01", 4.12, "4.12"),
        ("2024-05-02", 4.15, "4.15"),
        ("2024-05-03", None, "."),
    ]


def test_noaa_pages_by_its_resultset_and_sends_the_token_header(feed_lake):
    seen: list[httpx.Request] = []
    run = fetch_recorded("NOAA", "GHCND", seen=seen)

    assert (run.status, run.rows, run.request_count) == ("succeeded", 6, 2)
    assert [r.url.params["offset"] for r in seen] == ["1", "5"]
    assert seen[0].headers["token"] == "noaa-test"
    rows = _rows("market.series_observation")
    assert [(r["series_id"], r["period"], r["value"], r["unit"]) for r in rows if r["sector"] == "TMAX"] == [
        ("USW00094728.TMAX", "2024-01-15", 2.2, "degC"),
        ("USW00094728.TMAX", "2024-01-16", 1.1, "degC"),
    ]


def test_caiso_oasis_zip_pivots_the_lmp_components(feed_lake):
    run = fetch_recorded("CAISO", "PRC_LMP:DAM")

    rows = _rows("market.iso_lmp")
    assert (run.status, run.rows) == ("succeeded", 5)
    first = rows[0]
    assert (first["location_id"], first["market"], first["price_total"], first["price_energy"]) == (
        "TH_NP15_GEN-APND",
        "DAY_AHEAD",
        45.67,
        42.15,
    )
    assert (first["price_congestion"], first["price_loss"], first["interval_minutes"]) == (2.34, 1.18, 60)
    assert first["interval_start"] == datetime(2024, 1, 15, 7, tzinfo=UTC)
    assert (
        first["record_hash"]
        == hashlib.sha256(b"CAISO|DAY_AHEAD|TH_NP15_GEN-APND|2024-01-15T07:00:00+00:00").hexdigest()[:32]
    )


def test_miso_keeps_the_interval_of_its_refid(feed_lake):
    run = fetch_recorded("MISO", "LMP:RT")

    rows = _rows("market.iso_lmp")
    assert run.rows == 2
    assert [(r["location_id"], r["interval_start"], r["price_total"], r["price_energy"]) for r in rows] == [
        ("ALTW.ALTW", datetime(2024, 1, 15, 7, 15, tzinfo=UTC), 38.92, 35.54),
        ("CIN.CIN", datetime(2024, 1, 15, 7, 15, tzinfo=UTC), 42.67, 38.24),
    ]


def test_refetching_a_window_replaces_its_rows(feed_lake):
    first = fetch_recorded("FRED", "DGS10")
    second = fetch_recorded("FRED", "DGS10")

    rows = _rows("market.series_observation")
    assert len(rows) == 5
    assert {r["fetch_run_id"] for r in rows} == {second.pk} != {first.pk}


def test_no_api_key_is_a_failed_run_and_the_watermark_stays(feed_lake):
    from apps.feeds.models import Watermark

    seen: list[httpx.Request] = []
    run = fetch_recorded("EIA", "natural-gas/pri/fut", seen=seen, AURUM_EIA_API_KEY="")

    assert (run.status, run.error_code, run.request_count) == ("failed", "no_api_key", 0)
    assert "AURUM_EIA_API_KEY" in run.error
    assert seen == []
    assert not Watermark.objects.filter(provider="EIA").exists()
    assert _rows("market.series_observation") == []


def test_no_network_is_a_failed_run(feed_lake):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route to host", request=request)

    run = fetch_recorded("FRED", "DGS10", transport=httpx.MockTransport(refuse))

    assert (run.status, run.error_code) == ("failed", "network")
    assert "ConnectError" in run.error


def test_429_and_5xx_are_retried_then_succeed(feed_lake):
    from apps.feeds.recorded import RECORDED_DIR

    answers = iter([429, 503])
    seen: list[int] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        status = next(answers, 200)
        seen.append(status)
        if status != 200:
            return httpx.Response(status, headers={"Retry-After": "1"})
        return httpx.Response(
            200, content=(RECORDED_DIR / "fred/DGS10_2024-04-29_2024-05-03.json").read_bytes()
        )

    run = fetch_recorded("FRED", "DGS10", transport=httpx.MockTransport(flaky))

    assert seen == [429, 503, 200]
    assert (run.status, run.rows, run.request_count) == ("succeeded", 5, 1)


def test_a_provider_error_after_the_retries_fails_the_run(feed_lake):
    run = fetch_recorded("FRED", "DGS10", transport=httpx.MockTransport(lambda r: httpx.Response(500)))

    assert (run.status, run.error_code) == ("failed", "http_500")
    assert run.requests[0]["url"].startswith(
        "https://api.stlouisfed.org/fred/series/observations?series_id=DGS10"
    )


@pytest.mark.parametrize("body", [b"<html>maintenance</html>", b'{"unexpected": true}'])
def test_a_body_the_adapter_cannot_parse_fails_the_run(feed_lake, body):
    run = fetch_recorded(
        "FRED", "DGS10", transport=httpx.MockTransport(lambda r: httpx.Response(200, content=body))
    )

    assert (run.status, run.error_code) == ("failed", "parse")


def test_the_watermark_advances_on_success_only_and_never_back(feed_lake):
    from apps.feeds.models import Watermark
    from apps.feeds.recorded import recorded_transport
    from apps.feeds.services import feed_fetch
    from tests.support.feeds import KEYS, recorded

    fetch = recorded("FRED", "DGS10")
    older = Window.days("2024-04-01", "2024-04-05")
    fetch_recorded("FRED", "DGS10")
    with override_settings(**KEYS):
        again = feed_fetch(
            provider="FRED", dataset="DGS10", window=older, transport=recorded_transport(fetch.answer)
        )
    failed = fetch_recorded("FRED", "DGS10", transport=httpx.MockTransport(lambda r: httpx.Response(503)))

    mark = Watermark.objects.get(provider="FRED", dataset="DGS10")
    assert again is not None and again.status == "succeeded"
    assert failed.status == "failed"
    assert mark.fetched_until == datetime(2024, 5, 4, tzinfo=UTC)


def test_the_task_reports_a_failed_fetch_without_raising(feed_lake, settings):
    from apps.feeds.models import FetchRun
    from apps.feeds.tasks import feed_fetch_task

    settings.AURUM_NOAA_TOKEN = ""

    run_id = feed_fetch_task.run("NOAA", "GHCND", "2024-01-15T00:00:00+00:00", "2024-01-17T00:00:00+00:00")

    run = FetchRun.objects.get(pk=run_id)
    assert (run.status, run.error_code) == ("failed", "no_api_key")


def test_the_catalog_command_loads_the_original_catalogs(db, capsys):
    from django.core.management import call_command

    from apps.feeds.models import EiaDataset, Series
    from tests.support.paths import ORIGINAL

    call_command("feeds_catalog_load", "--source", str(ORIGINAL))

    assert EiaDataset.objects.count() == 230
    assert Series.objects.get(provider="EIA", series_id="NG.RNGWHHD.D").unit_code == "USD"
    assert Series.objects.get(provider="FRED", series_id="DGS10").frequency_code == "DAILY"
    assert Series.objects.filter(provider="NOAA").count() == 90
    assert capsys.readouterr().out == f"96 series, 230 EIA datasets from {ORIGINAL}\n"


def test_the_api_key_is_never_logged(feed_lake, caplog):
    caplog.set_level("DEBUG")

    run = fetch_recorded("EIA", "natural-gas/pri/fut")

    assert run.status == "succeeded"
    assert "eia-test-key" not in caplog.text
    assert all("eia-test-key" not in entry["url"] for entry in run.requests)


def test_refetching_an_lmp_window_replaces_its_rows(feed_lake):
    fetch_recorded("CAISO", "PRC_LMP:DAM")
    second = fetch_recorded("CAISO", "PRC_LMP:DAM")

    rows = _rows("market.iso_lmp")
    assert len(rows) == 5
    assert {r["fetch_run_id"] for r in rows} == {second.pk}
