"""Feeds in tests: the real adapters run on the recorded responses (``apps.feeds.recorded``) through an
``httpx.MockTransport``, with test API keys; the catalog from the original's catalog files."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import httpx
import pyarrow as pa
from django.test import override_settings

from tests.support.paths import ORIGINAL

if TYPE_CHECKING:
    from apps.feeds.models import FetchRun

KEYS = {
    "AURUM_EIA_API_KEY": "eia-test-key",
    "AURUM_FRED_API_KEY": "fred-test-key",
    "AURUM_NOAA_TOKEN": "noaa-test",
    "AURUM_PJM_API_KEY": "pjm-test-key",
    "AURUM_ERCOT_SUBSCRIPTION_KEY": "ercot-test-key",
    "AURUM_ERCOT_USERNAME": "ercot-user@example.com",
    "AURUM_ERCOT_PASSWORD": "ercot-test-password",
}
FEED_LICENCES = ["feed:eia", "feed:fred", "feed:noaa", "iso:caiso", "iso:miso", "feed:drought"]


def recorded(provider: str, dataset: str) -> Any:
    from apps.feeds.recorded import RECORDED_FETCHES

    return next(f for f in RECORDED_FETCHES if (f.provider, f.dataset) == (provider, dataset))


def fetch_recorded(
    provider: str,
    dataset: str,
    *,
    seen: list[httpx.Request] | None = None,
    answer: Callable[[httpx.Request], str] | None = None,
    transport: httpx.BaseTransport | None = None,
    **keys: str,
) -> FetchRun:
    """Fetch the recorded window of (provider, dataset) through the adapter: its FetchRun."""
    from apps.feeds.recorded import recorded_transport
    from apps.feeds.services import feed_fetch

    fetch = recorded(provider, dataset)
    transport = transport or recorded_transport(answer or fetch.answer, seen=seen)
    with override_settings(**{**KEYS, **keys}):
        run = feed_fetch(provider=provider, dataset=dataset, window=fetch.window, transport=transport)
    assert run is not None, "the window is claimed"
    return run


def feeds_load() -> list[FetchRun | None]:
    """The catalog (the original's catalog files) and every recorded fetch, as the demo loads them."""
    from apps.feeds.recorded import recorded_load

    return recorded_load(catalog_dir=ORIGINAL)


def drought_indices_write() -> int:
    """Three SPI values written to the drought index table as an index source would (none is fetched yet),
    so the drought index reads have rows to page through."""
    from aurum.lakehouse.feed_tables import DROUGHT_INDEX_ARROW, drought_index_table

    rows = [
        {
            "series_id": f"nclimgrid:SPI:3M:STATE:{state}",
            "dataset": "nclimgrid",
            "index": "SPI",
            "timescale": "3M",
            "region_type": "STATE",
            "region_id": state,
            "region_name": state,
            "valid_date": date(2024, 1, 9),
            "value": value,
            "unit": "z",
            "poc": None,
            "source_url": None,
            "fetch_run_id": None,
            "request_url": None,
            "response_sha256": None,
            "fetched_at": datetime(2024, 1, 10, tzinfo=UTC),
        }
        for state, value in (("CA", -0.42), ("TX", -1.31), ("NY", 0.25))
    ]
    table = pa.table(
        {name: [row[name] for row in rows] for name in DROUGHT_INDEX_ARROW.names}, schema=DROUGHT_INDEX_ARROW
    )
    drought_index_table().append(table)
    return table.num_rows
