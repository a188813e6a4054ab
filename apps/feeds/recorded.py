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

RECORDED_DIR = Path(settings.BASE_DIR) / "tests" / "feeds" / "recorded"


@dataclass(frozen=True)
class RecordedFetch:
    provider: str
    dataset: str
    window: Window
    answer: Callable[[httpx.Request], str]  # the file (relative to the recordings) answering a request


def _by_offset(pattern: str, default: str) -> Callable[[httpx.Request], str]:
    return lambda request: pattern.format(offset=request.url.params.get("offset", default))


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
    RecordedFetch(
        "MISO",
        "LMP:RT",
        Window.days("2024-01-15", "2024-01-15"),
        lambda r: "miso/getlmpconsolidatedtable_0215.json",
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
