"""FRED ``series/observations`` (JSON): ``observations[{date, value, realtime_start, realtime_end}]``, "."
for a missing value; paged by ``offset``/``limit`` against ``count``; ``api_key`` a query parameter.

The dataset is one series (``params.series_id``; its catalog entry gives the unit and frequency).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from apps.feeds.adapters.base import (
    FeedClient,
    FeedDataset,
    FetchError,
    Window,
    json_body,
    lineage,
    number,
)

BASE_URL = "https://api.stlouisfed.org/fred"
PAGE_LIMIT = 100000


def parse(body: Any, dataset: FeedDataset, recorded: Any) -> tuple[list[dict[str, Any]], int]:
    try:
        observations = body["observations"]
        count = int(body.get("count", len(observations)))
    except (KeyError, TypeError, ValueError) as exc:
        raise FetchError("parse", "FRED: the body has no observations") from exc
    series_id = dataset.params["series_id"]
    rows = []
    for item in observations:
        day = str(item["date"])
        rows.append(
            {
                "provider": "FRED",
                "dataset": dataset.dataset,
                "series_id": series_id,
                "ts": datetime.fromisoformat(day).replace(tzinfo=UTC),
                "period": day,
                "value": number(item.get("value")),
                "value_raw": str(item.get("value")),
                "unit": dataset.params.get("unit"),
                "frequency": dataset.params.get("frequency"),
                "area": "US",
                "sector": None,
                "status": "FINAL",
                "metadata": json.dumps(
                    {
                        "realtime_start": str(item.get("realtime_start", "")),
                        "realtime_end": str(item.get("realtime_end", "")),
                    }
                ),
                **lineage(recorded),
            }
        )
    return rows, count


def fetch(client: FeedClient, dataset: FeedDataset, window: Window) -> list[dict[str, Any]]:
    key = client.key("AURUM_FRED_API_KEY")
    rows: list[dict[str, Any]] = []
    offset = 0
    while True:
        params = {
            "series_id": dataset.params["series_id"],
            "api_key": key,
            "file_type": "json",
            "observation_start": window.start.date().isoformat(),
            "observation_end": window.last_day,
            "offset": offset,
            "limit": PAGE_LIMIT,
        }
        if dataset.params.get("realtime_start"):
            params["realtime_start"] = dataset.params["realtime_start"]
        response, recorded = client.get(f"{BASE_URL}/series/observations", params)
        page, count = parse(json_body(response, "FRED"), dataset, recorded)
        rows.extend(page)
        offset += len(page)
        if not page or offset >= count:
            return rows
