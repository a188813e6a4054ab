"""Recorded provider responses replayed through ``httpx.MockTransport``: how tests and the demo run the real
adapters without reaching the providers (``tests/feeds/recorded/``, its README says where each came from).

``RECORDED_FETCHES`` lists the (provider, dataset, window) fetches the recordings answer, and which file
answers each request of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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


MISO_DAY = Window.days("2024-01-15", "2024-01-15")
# Stand-in keys: a replay sends them to no one.
REPLAY_KEYS = {
    "AURUM_EIA_API_KEY": "recorded",
    "AURUM_FRED_API_KEY": "recorded",
    "AURUM_NOAA_TOKEN": "recorded",
}
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
