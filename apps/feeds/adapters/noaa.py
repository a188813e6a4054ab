"""NOAA NCEI Climate Data Online v2 ``data`` endpoint: ``results[{date, datatype, station, attributes,
value}]`` with ``metadata.resultset{offset, count, limit}`` (offset 1-based), the token in the ``token``
header. ``units=metric``: temperatures in °C, precipitation and snow in mm, wind in m/s.

Dataset params: ``datasetid`` (GHCND), ``stations``, ``datatypes``.
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

BASE_URL = "https://www.ncei.noaa.gov/cdo-web/api/v2"
PAGE_LIMIT = 1000
METRIC_UNITS = {
    "TMAX": "degC",
    "TMIN": "degC",
    "TAVG": "degC",
    "TOBS": "degC",
    "PRCP": "mm",
    "SNOW": "mm",
    "SNWD": "mm",
    "AWND": "m/s",
    "WSF2": "m/s",
    "WSF5": "m/s",
}


def parse(body: Any, dataset: FeedDataset, recorded: Any) -> tuple[list[dict[str, Any]], int, int]:
    """The rows of one page, the result set's count and the page's limit (an empty body: no data)."""
    if body == {} or body is None:
        return [], 0, 0
    try:
        resultset = body["metadata"]["resultset"]
        results = body["results"]
    except (KeyError, TypeError) as exc:
        raise FetchError("parse", "NOAA: the body has no results / metadata.resultset") from exc
    rows = []
    for item in results:
        station = str(item["station"])
        datatype = str(item["datatype"])
        rows.append(
            {
                "provider": "NOAA",
                "dataset": dataset.dataset,
                "series_id": f"{station.split(':')[-1]}.{datatype}",
                "ts": datetime.fromisoformat(str(item["date"])).replace(tzinfo=UTC),
                "period": str(item["date"])[:10],
                "value": number(item.get("value")),
                "value_raw": str(item.get("value")),
                "unit": METRIC_UNITS.get(datatype),
                "frequency": dataset.params.get("frequency", "DAILY"),
                "area": station,
                "sector": datatype,
                "status": "FINAL",
                "metadata": json.dumps({"attributes": str(item.get("attributes", ""))}),
                **lineage(recorded),
            }
        )
    return rows, int(resultset["count"]), int(resultset["limit"])


def fetch(client: FeedClient, dataset: FeedDataset, window: Window) -> list[dict[str, Any]]:
    token = client.key("AURUM_NOAA_TOKEN")
    limit = int(dataset.params.get("page_limit", PAGE_LIMIT))
    rows: list[dict[str, Any]] = []
    offset = 1
    while True:
        params = {
            "datasetid": dataset.params.get("datasetid", "GHCND"),
            "stationid": list(dataset.params.get("stations", [])),
            "datatypeid": list(dataset.params.get("datatypes", [])),
            "startdate": window.start.date().isoformat(),
            "enddate": window.last_day,
            "units": "metric",
            "limit": limit,
            "offset": offset,
        }
        response, recorded = client.get(f"{BASE_URL}/data", params, headers={"token": token})
        page, count, page_limit = parse(json_body(response, "NOAA"), dataset, recorded)
        rows.extend(page)
        offset += page_limit or limit
        if not page or offset > count:
            return rows
