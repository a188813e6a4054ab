"""U.S. Drought Monitor statistics (``usdmdataservices.unl.edu``): per state and weekly map, the percent
of area in each category, cumulative (D1 includes D2–D4), as ``[{MapDate, State, None, D0..D4,
ValidStart, ValidEnd}]``. Stored as fractions (``d0_frac`` … ``d4_frac``). No key.

Dataset params: ``aoi`` (a state abbreviation or "TOTAL"; several are fetched one request each).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from apps.feeds.adapters.base import FeedClient, FeedDataset, FetchError, Window, json_body, lineage, number

BASE_URL = "https://usdmdataservices.unl.edu/api/StateStatistics/GetDroughtSeverityStatisticsByAreaPercent"


def _fraction(value: Any) -> float | None:
    pct = number(value)
    return None if pct is None else round(pct / 100, 6)


def parse(body: Any, dataset: FeedDataset, recorded: Any, url: str) -> list[dict[str, Any]]:
    if not isinstance(body, list):
        raise FetchError("parse", "USDM: the body is not a list of statistics")
    rows = []
    for item in body:
        try:
            valid = date.fromisoformat(str(item["ValidStart"])[:10])
            rows.append(
                {
                    "region_type": "STATE",
                    "region_id": str(item["State"]),
                    "region_name": str(item["State"]),
                    "valid_date": valid,
                    **{f"d{n}_frac": _fraction(item.get(f"D{n}")) for n in range(5)},
                    "source_url": url,
                    **lineage(recorded),
                }
            )
        except (KeyError, ValueError) as exc:
            raise FetchError("parse", f"USDM: a statistic without {exc}") from exc
    return rows


def fetch(client: FeedClient, dataset: FeedDataset, window: Window) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for aoi in dataset.params.get("aoi", ["TOTAL"]):
        params = {
            "aoi": aoi,
            "startdate": f"{window.start:%m/%d/%Y}",
            "enddate": f"{window.end:%m/%d/%Y}",
            "statisticsType": 1,
        }
        response, recorded = client.get(BASE_URL, params, headers={"Accept": "application/json"})
        parsed = parse(json_body(response, "USDM"), dataset, recorded, BASE_URL)
        rows.extend(row for row in parsed if aoi == "TOTAL" or row["region_id"] == aoi)
    return [row for row in rows if window.start.date() <= row["valid_date"] < window.end.date()]
