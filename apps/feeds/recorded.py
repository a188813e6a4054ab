"""Recorded provider responses replayed through ``httpx.MockTransport``: how tests and the demo run the real
adapters without reaching the providers (``tests/feeds/recorded/``, its README says where each came from).

``RECORDED_FETCHES`` lists the (provider, dataset, window) fetches the recordings answer, and which file
answers each request of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from django.conf import settings

from apps.feeds.adapters.base import Window
from apps.feeds.models import FetchRun
from apps.feeds.services import catalog_load, feed_fetch

RECORDED_DIR = Path(settings.BASE_DIR) / "tests" / "feeds" / "recorded"


@dataclass(frozen=True)
class RecordedFetch:
    provider: str
    dataset: str
    window: Window
    answer: Callable[[httpx.Request], str]  # the file (relative to the recordings) answering a request


def _by_offset(pattern: str, default: str) -> Callable[[httpx.Request], str]:
    return lambda request: pattern.format(offset=request.url.params.get("offset", default))


def _pjm(pattern: str) -> Callable[[httpx.Request], str]:
    return lambda request: pattern.format(row=request.url.params.get("startRow", "1"))


def _ercot(pattern: str) -> Callable[[httpx.Request], str]:
    """The sign-in answers the recorded token; a report page is chosen by settlement point and page."""

    def answer(request: httpx.Request) -> str:
        if request.method == "POST":
            return "ercot/token.json"
        params = request.url.params
        return pattern.format(point=params.get("settlementPoint", "ALL"), page=params.get("page", "1"))

    return answer


MISO_DAY = Window.days("2024-01-15", "2024-01-15")
# Stand-in keys: a replay sends them to no one.
REPLAY_KEYS = {
    "AURUM_EIA_API_KEY": "recorded",
    "AURUM_FRED_API_KEY": "recorded",
    "AURUM_NOAA_TOKEN": "recorded",
    "AURUM_PJM_API_KEY": "recorded",
    "AURUM_ERCOT_SUBSCRIPTION_KEY": "recorded",
    "AURUM_ERCOT_USERNAME": "recorded",
    "AURUM_ERCOT_PASSWORD": "recorded",
}
EPT_2024_11_03 = Window(
    datetime(2024, 11, 3, 4, tzinfo=UTC), datetime(2024, 11, 4, 5, tzinfo=UTC)
)  # 25 hours
CPT_2024_11_03 = Window(datetime(2024, 11, 3, 5, tzinfo=UTC), datetime(2024, 11, 4, 6, tzinfo=UTC))
RECORDED_FETCHES = (
    RecordedFetch(
        "EIA",
        "natural-gas/pri/fut",
        Window.days("2024-04-29", "2024-05-03"),
        _by_offset("eia/natural-gas_pri_fut_RNGWHHD_offset{offset}.json", "0"),
    ),
    RecordedFetch(
        "FRED",
        "DGS10",
        Window.days("2024-04-29", "2024-05-03"),
        lambda r: "fred/DGS10_2024-04-29_2024-05-03.json",
    ),
    RecordedFetch(
        "NOAA",
        "GHCND",
        Window.days("2024-01-15", "2024-01-16"),
        _by_offset("noaa/GHCND_USW00094728_2024-01-15_2024-01-16_offset{offset}.json", "1"),
    ),
    RecordedFetch(
        "CAISO",
        "PRC_LMP:DAM",
        Window.days("2024-01-15", "2024-01-15"),
        lambda r: "caiso/PRC_LMP_DAM_20240115.zip",
    ),
    # The Data Broker answers the interval current at the time: two calls, two intervals.
    RecordedFetch(
        "MISO",
        "LMP:RT",
        Window(MISO_DAY.start, MISO_DAY.start.replace(hour=7, minute=30)),
        lambda r: "miso/getlmpconsolidatedtable_0215.json",
    ),
    RecordedFetch(
        "MISO",
        "LMP:RT",
        Window(MISO_DAY.start.replace(hour=7, minute=30), MISO_DAY.end),
        lambda r: "miso/getlmpconsolidatedtable_0230.json",
    ),
    # PJM's operating day 2024-11-03 (EPT) is the fall-back day: 25 hours, 01:00 EPT twice.
    RecordedFetch("PJM", "da_hrl_lmps", EPT_2024_11_03, _pjm("pjm/da_hrl_lmps_20241103_startRow{row}.json")),
    RecordedFetch(
        "PJM",
        "rt_hrl_lmps",
        Window(datetime(2024, 11, 1, 4, tzinfo=UTC), datetime(2024, 11, 1, 7, tzinfo=UTC)),
        _pjm("pjm/rt_hrl_lmps_20241101_startRow{row}.json"),
    ),
    RecordedFetch(
        "PJM",
        "rt_unverified_fivemin_lmps",
        Window(datetime(2024, 11, 3, 6, tzinfo=UTC), datetime(2024, 11, 3, 6, 15, tzinfo=UTC)),
        _pjm("pjm/rt_unverified_fivemin_lmps_20241103_0600Z_startRow{row}.json"),
    ),
    RecordedFetch(
        "ERCOT",
        "np4-190-cd/dam_stlmnt_pnt_prices",
        CPT_2024_11_03,
        _ercot("ercot/dam_stlmnt_pnt_prices_{point}_20241103_page{page}.json"),
    ),
    # The real-time hour ending 02:00 of the fall-back day, both of its occurrences (01:00 CDT, 01:00 CST).
    RecordedFetch(
        "ERCOT",
        "np6-905-cd/spp_node_zone_hub",
        Window(datetime(2024, 11, 3, 6, tzinfo=UTC), datetime(2024, 11, 3, 8, tzinfo=UTC)),
        _ercot("ercot/spp_node_zone_hub_{point}_20241103_page{page}.json"),
    ),
    RecordedFetch(
        "USDM",
        "StateStatistics",
        Window.days("2024-01-02", "2024-01-15"),
        lambda r: "usdm/StateStatistics_2024-01-02_2024-01-15.json",
    ),
)


def recorded_transport(
    answer: Callable[[httpx.Request], str],
    *,
    directory: Path = RECORDED_DIR,
    seen: list[httpx.Request] | None = None,
) -> httpx.MockTransport:
    """A transport answering each request with the recorded file ``answer`` names (a missing file: 404)."""

    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        path = directory / answer(request)
        if not path.exists():
            return httpx.Response(404, json={"error": "not recorded"})
        content_type = "application/zip" if path.suffix == ".zip" else "application/json"
        return httpx.Response(200, content=path.read_bytes(), headers={"Content-Type": content_type})

    return httpx.MockTransport(handler)


def recorded_load(*, catalog_dir: Path | None = None) -> list[FetchRun | None]:
    """The catalog (the original's catalog files in ``catalog_dir``, else the copy beside the recordings)
    and every recorded fetch, through the real adapters: what the demo serves without network or keys."""
    source = catalog_dir if catalog_dir is not None and catalog_dir.is_dir() else RECORDED_DIR / "catalog"
    catalog_load(source_dir=source)
    return [
        feed_fetch(
            provider=fetch.provider,
            dataset=fetch.dataset,
            window=fetch.window,
            transport=recorded_transport(fetch.answer),
            keys=REPLAY_KEYS,
        )
        for fetch in RECORDED_FETCHES
    ]
