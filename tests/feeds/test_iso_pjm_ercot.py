"""PJM (Data Miner 2) and ERCOT (public API) LMPs: the adapters on recorded responses (tests/feeds/recorded/,
README there), their paging, credentials, time zones on the fall-back day, lineage in market.iso_lmp, and
what a fetch without keys or network ends as."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx

from tests.support.feeds import fetch_recorded


def _lmp_rows(iso: str) -> list[dict]:
    from aurum.lakehouse.catalog import get_catalog
    from aurum.lakehouse.feed_tables import feed_tables_ensure

    feed_tables_ensure()
    rows = get_catalog().load_table("market.iso_lmp").scan().to_arrow().to_pylist()
    return sorted(
        (r for r in rows if r["iso_code"] == iso), key=lambda r: (r["interval_start"], r["location_id"])
    )


def test_pjm_day_ahead_pages_by_start_row_and_keeps_the_25_hours_of_the_fall_back_day(feed_lake):
    seen: list[httpx.Request] = []
    run = fetch_recorded("PJM", "da_hrl_lmps", seen=seen)

    assert (run.status, run.rows, run.request_count) == ("succeeded", 50, 2)
    assert [r.url.params["startRow"] for r in seen] == ["1", "31"]
    assert {r.url.params["rowCount"] for r in seen} == {"50000"}
    assert seen[0].url.path == "/api/v1/da_hrl_lmps"
    assert seen[0].url.params["datetime_beginning_ept"] == "11/03/2024 00:00to11/03/2024 23:59"
    assert seen[0].url.params["pnode_id"] == "51290;51192"
    assert all(r.headers["Ocp-Apim-Subscription-Key"] == "pjm-test-key" for r in seen)
    assert all("pjm-test-key" not in entry["url"] for entry in run.requests)
    rows = _lmp_rows("PJM")
    starts = sorted({r["interval_start"] for r in rows})
    assert len(starts) == 25
    assert (starts[0], starts[-1]) == (
        datetime(2024, 11, 3, 4, tzinfo=UTC),
        datetime(2024, 11, 4, 4, tzinfo=UTC),
    )
    # 01:00 EPT twice: 05:00Z (EDT) and 06:00Z (EST), both of operating day 2024-11-03.
    repeated = [r for r in rows if r["location_id"] == "51290" and r["interval_start"].hour in (5, 6)]
    assert [(r["interval_start"].hour, r["delivery_date"]) for r in repeated[:2]] == [
        (5, date(2024, 11, 3)),
        (6, date(2024, 11, 3)),
    ]
    first = next(r for r in rows if r["location_id"] == "51290")
    assert (first["location_id"], first["location_name"], first["market"], first["interval_minutes"]) == (
        "51290",
        "AECO 230KV",
        "DAY_AHEAD",
        60,
    )
    # The recorded item: energy 30.0, congestion 0.35, loss 0.61, total 30.96 ($/MWh).
    assert (first["price_total"], first["price_energy"], first["price_congestion"], first["price_loss"]) == (
        30.96,
        30.0,
        0.35,
        0.61,
    )
    assert (first["zone"], first["timezone"], first["currency"], first["uom"]) == (
        "AECO",
        "America/New_York",
        "USD",
        "MWh",
    )
    assert {r["response_sha256"] for r in rows} == {entry["sha256"] for entry in run.requests}


def test_pjm_unverified_five_minute_prices_derive_energy_and_keep_the_utc_window(feed_lake):
    run = fetch_recorded("PJM", "rt_unverified_fivemin_lmps")

    rows = _lmp_rows("PJM")
    assert (run.status, run.rows) == ("succeeded", 6)  # 05:55Z is outside the window [06:00Z, 06:15Z)
    assert [r["interval_start"].minute for r in rows if r["location_id"] == "51192"] == [0, 5, 10]
    first = next(r for r in rows if r["location_id"] == "51290")
    assert (first["market"], first["interval_minutes"], first["interval_end"]) == (
        "FIVE_MINUTE",
        5,
        datetime(2024, 11, 3, 6, 5, tzinfo=UTC),
    )
    # total 23.7 less congestion 0.3 and loss 0.4 (the feed has no energy component)
    assert (first["location_id"], first["price_total"], first["price_energy"]) == ("51290", 23.7, 23.0)


def test_ercot_day_ahead_signs_in_sends_both_credentials_and_orders_the_repeated_hour_by_dstflag(feed_lake):
    seen: list[httpx.Request] = []
    run = fetch_recorded("ERCOT", "np4-190-cd/dam_stlmnt_pnt_prices", seen=seen)

    assert (run.status, run.rows) == ("succeeded", 50)
    sign_in, *reports = seen
    assert sign_in.method == "POST" and sign_in.url.host == "ercotb2c.b2clogin.com"
    form = dict(httpx.QueryParams(sign_in.content.decode()))
    assert (form["grant_type"], form["username"], form["password"]) == (
        "password",
        "ercot-user@example.com",
        "ercot-test-password",
    )
    assert [(r.url.params["settlementPoint"], r.url.params["page"]) for r in reports] == [
        ("HB_HOUSTON", "1"),
        ("HB_HOUSTON", "2"),
        ("HB_NORTH", "1"),
    ]
    assert {(r.url.params["deliveryDateFrom"], r.url.params["deliveryDateTo"]) for r in reports} == {
        ("2024-11-03", "2024-11-03")
    }
    assert {r.headers["Authorization"] for r in reports} == {"Bearer recorded-id-token"}
    assert {r.headers["Ocp-Apim-Subscription-Key"] for r in reports} == {"ercot-test-key"}
    assert run.request_count == 4
    assert all("ercot-test-password" not in entry["url"] for entry in run.requests)
    houston = [r for r in _lmp_rows("ERCOT") if r["location_id"] == "HB_HOUSTON"]
    assert len(houston) == 25
    # Hour ending 01:00 begins at midnight CDT (05:00Z); hour ending 02:00 twice: 06:00Z (CDT, DSTFlag
    # false) then 07:00Z (CST, DSTFlag true); hour ending 24:00 begins at 23:00 CST (05:00Z next day).
    assert [(r["interval_start"].hour, r["price_total"]) for r in houston[:4]] == [
        (5, 28.0),
        (6, 27.42),
        (7, 26.83),
        (8, 26.25),
    ]
    assert houston[-1]["interval_start"] == datetime(2024, 11, 4, 5, tzinfo=UTC)
    assert {(r["market"], r["location_type"], r["hub"], r["delivery_date"]) for r in houston} == {
        ("DAY_AHEAD", "HUB", "HB_HOUSTON", date(2024, 11, 3))
    }


def test_ercot_real_time_quarter_hours_of_the_repeated_hour(feed_lake):
    run = fetch_recorded("ERCOT", "np6-905-cd/spp_node_zone_hub")

    north = [r for r in _lmp_rows("ERCOT") if r["location_id"] == "HB_NORTH"]
    assert (run.status, run.rows) == ("succeeded", 16)  # hour 1 interval 4 and hour 3 are outside the window
    assert [(r["interval_start"].strftime("%H:%M"), r["price_total"]) for r in north] == [
        ("06:00", 16.75),
        ("06:15", 16.4),
        ("06:30", 16.05),
        ("06:45", 15.7),
        ("07:00", 15.95),
        ("07:15", 15.6),
        ("07:30", 15.25),
        ("07:45", 14.9),
    ]
    assert {(r["market"], r["interval_minutes"], r["price_energy"]) for r in north} == {
        ("REAL_TIME", 15, None)
    }


def test_ercot_spring_forward_hours_skip_the_missing_hour():
    from apps.feeds.adapters.ercot import local_start

    # 2024-03-10: hour ending 02:00 begins at 01:00 CST (07:00Z); the next published, 04:00, at 03:00 CDT.
    assert local_start(date(2024, 3, 10), 2, 0, False) == datetime(2024, 3, 10, 7, tzinfo=UTC)
    assert local_start(date(2024, 3, 10), 4, 0, False) == datetime(2024, 3, 10, 8, tzinfo=UTC)
    assert local_start(date(2024, 11, 3), 2, 15, True) == datetime(2024, 11, 3, 7, 15, tzinfo=UTC)


def test_no_keys_fail_the_runs_without_a_request(feed_lake):
    from apps.feeds.models import Watermark

    pjm_seen: list[httpx.Request] = []
    ercot_seen: list[httpx.Request] = []
    pjm = fetch_recorded("PJM", "da_hrl_lmps", seen=pjm_seen, AURUM_PJM_API_KEY="")
    ercot = fetch_recorded("ERCOT", "np6-905-cd/spp_node_zone_hub", seen=ercot_seen, AURUM_ERCOT_PASSWORD="")

    assert (pjm.status, pjm.error_code, pjm.request_count) == ("failed", "no_api_key", 0)
    assert "AURUM_PJM_API_KEY" in pjm.error
    assert (ercot.status, ercot.error_code, ercot.request_count) == ("failed", "no_api_key", 0)
    assert "AURUM_ERCOT_PASSWORD" in ercot.error
    assert pjm_seen == ercot_seen == []
    assert not Watermark.objects.filter(provider__in=["PJM", "ERCOT"]).exists()
    assert _lmp_rows("PJM") == _lmp_rows("ERCOT") == []


def test_a_refused_ercot_sign_in_is_an_auth_failure_and_no_report_is_asked(feed_lake):
    seen: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(400, json={"error": "invalid_grant"})

    run = fetch_recorded("ERCOT", "np4-190-cd/dam_stlmnt_pnt_prices", transport=httpx.MockTransport(refuse))

    assert (run.status, run.error_code) == ("failed", "auth")
    assert [r.method for r in seen] == ["POST"]


def test_no_network_fails_the_run(feed_lake):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route to host", request=request)

    run = fetch_recorded("PJM", "rt_hrl_lmps", transport=httpx.MockTransport(refuse))

    assert (run.status, run.error_code) == ("failed", "network")


def test_an_ercot_row_of_the_wrong_width_fails_the_run(feed_lake):
    from apps.feeds.recorded import RECORDED_DIR

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, content=(RECORDED_DIR / "ercot/token.json").read_bytes())
        return httpx.Response(
            200,
            json={
                "_meta": {"totalPages": 1, "currentPage": 1},
                "fields": [{"name": "deliveryDate"}, {"name": "hourEnding"}],
                "data": [["2024-11-03", "01:00"]],
            },
        )

    run = fetch_recorded("ERCOT", "np4-190-cd/dam_stlmnt_pnt_prices", transport=httpx.MockTransport(answer))

    assert (run.status, run.error_code) == ("failed", "parse")
    assert "settlementPoint" in run.error


def test_refetching_a_pjm_window_replaces_its_rows(feed_lake):
    fetch_recorded("PJM", "rt_hrl_lmps")
    second = fetch_recorded("PJM", "rt_hrl_lmps")

    rows = _lmp_rows("PJM")
    assert len(rows) == 6
    assert {r["fetch_run_id"] for r in rows} == {second.pk}
    assert {r["market"] for r in rows} == {"REAL_TIME"}


def test_a_scheduled_fetch_without_the_ercot_account_ends_failed_and_is_not_retried(feed_lake, settings):
    from apps.feeds.models import FetchRun
    from apps.feeds.tasks import feed_fetch_task

    settings.AURUM_ERCOT_SUBSCRIPTION_KEY = "ercot-test-key"
    settings.AURUM_ERCOT_USERNAME = ""

    run_id = feed_fetch_task.run(
        "ERCOT", "np6-905-cd/spp_node_zone_hub", "2030-03-06T19:30:00+00:00", "2030-03-06T19:45:00+00:00"
    )

    run = FetchRun.objects.get(pk=run_id)
    assert (run.status, run.error_code, run.request_count) == ("failed", "no_api_key", 0)
    assert "AURUM_ERCOT_USERNAME" in run.error
