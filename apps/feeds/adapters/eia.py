"""EIA API v2 (``https://api.eia.gov/v2/<route>/data/``): ``response.data`` rows, paged by ``offset`` and
``length`` (at most 5,000 rows a request) against ``response.total``; ``api_key`` a query parameter.

Dataset params: ``route`` (``natural-gas/pri/fut``), ``frequency`` (``daily``), ``facets`` (``{"series":
["RNGWHHD"]}``), ``series_id`` (a template over the row's columns, ``NG.{series}.D``), ``area`` and
``sector`` (the columns that hold them).
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

BASE_URL = "https://api.eia.gov/v2"
PAGE_LENGTH = 5000
FREQUENCIES = {
    "annual": "ANNUAL",
    "quarterly": "QUARTERLY",
    "monthly": "MONTHLY",
    "weekly": "WEEKLY",
    "daily": "DAILY",
    "hourly": "HOURLY",
    "local-hourly": "HOURLY",
}


def period_start(period: str) -> datetime:
    """EIA periods: ``2024``, ``2024-Q2``, ``2024-05``, ``2024-05-01``, ``2024-05-01T13``."""
    text = period.strip()
    if "-Q" in text:
        year, quarter = text.split("-Q")
        return datetime(int(year), 3 * int(quarter) - 2, 1, tzinfo=UTC)
    formats = {4: "%Y", 7: "%Y-%m", 10: "%Y-%m-%d", 13: "%Y-%m-%dT%H"}
    try:
        return datetime.strptime(text, formats[len(text)]).replace(tzinfo=UTC)
    except (KeyError, ValueError) as exc:
        raise FetchError("parse", f"EIA: unknown period format {period!r}") from exc


def request_params(dataset: FeedDataset, window: Window, *, offset: int, length: int) -> dict[str, Any]:
    params: dict[str, Any] = {
        "frequency": dataset.params.get("frequency", "daily"),
        "data[0]": "value",
        "start": window.start.date().isoformat(),
        "end": window.last_day,
        "sort[0][column]": "period",
        "sort[0][direction]": "asc",
        "offset": offset,
        "length": length,
    }
    for facet, values in dataset.params.get("facets", {}).items():
        params[f"facets[{facet}][]"] = list(values)
    return params


def parse(body: Any, dataset: FeedDataset, recorded: Any) -> tuple[list[dict[str, Any]], int]:
    """The rows of one page and the total the API reports."""
    try:
        response = body["response"]
        total = int(response["total"])
        data = response["data"]
    except (KeyError, TypeError, ValueError) as exc:
        raise FetchError("parse", "EIA: the body has no response.total / response.data") from exc
    frequency = FREQUENCIES.get(str(response.get("frequency", dataset.params.get("frequency", ""))), "OTHER")
    template = dataset.params.get("series_id", "{series}")
    rows = []
    for item in data:
        columns = {key.replace("-", "_"): value for key, value in item.items()}
        rows.append(
            {
                "provider": "EIA",
                "dataset": dataset.dataset,
                "series_id": template.format(**columns),
                "ts": period_start(str(item["period"])),
                "period": str(item["period"]),
                "value": number(item.get("value")),
                "value_raw": None if item.get("value") is None else str(item.get("value")),
                "unit": item.get("units"),
                "frequency": frequency,
                "area": item.get(dataset.params.get("area", "area-name")),
                "sector": item.get(dataset.params.get("sector", "process-name")),
                "status": "FINAL",
                "metadata": json.dumps({"description": str(item.get("series-description", ""))}),
                **lineage(recorded),
            }
        )
    return rows, total


def fetch(client: FeedClient, dataset: FeedDataset, window: Window) -> list[dict[str, Any]]:
    key = client.key("AURUM_EIA_API_KEY")
    url = f"{BASE_URL}/{dataset.params['route'].strip('/')}/data/"
    length = int(dataset.params.get("page_length", PAGE_LENGTH))
    rows: list[dict[str, Any]] = []
    offset = 0
    while True:
        params = {"api_key": key, **request_params(dataset, window, offset=offset, length=length)}
        response, recorded = client.get(url, params)
        page, total = parse(json_body(response, "EIA"), dataset, recorded)
        rows.extend(page)
        offset += len(page)  # the API may cap a page below the length asked for
        if not page or offset >= total:
            return rows
