"""CAISO OASIS ``SingleZip`` (``queryname=PRC_LMP``, ``resultformat=6``): a zip holding one CSV with a row per
(interval, node, LMP_TYPE) — LMP (total), MCE (energy), MCC (congestion), MCL (loss) — and the price in
``MW``. An error comes back as a zip holding an XML with ``ERR_CODE``/``ERR_DESC``. No key.

Dataset params: ``market_run_id`` (DAM, RTM, RTPD), ``nodes`` (empty: every node the query answers).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime
from typing import Any

from apps.feeds.adapters.base import FeedClient, FeedDataset, FetchError, Window, lineage, number

BASE_URL = "http://oasis.caiso.com/oasisapi/SingleZip"
MARKETS = {"DAM": "DAY_AHEAD", "RTM": "FIVE_MINUTE", "RTPD": "FIFTEEN_MINUTE", "HASP": "HOUR_AHEAD"}
COMPONENTS = {"LMP": "price_total", "MCE": "price_energy", "MCC": "price_congestion", "MCL": "price_loss"}


def oasis_time(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H:%M-0000")


def _timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("-00:00", "+00:00"))


def parse(content: bytes, dataset: FeedDataset, recorded: Any) -> list[dict[str, Any]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as exc:
        raise FetchError("parse", "CAISO: the answer is not a zip") from exc
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for name in archive.namelist():
        text = archive.read(name).decode("utf-8-sig")
        if name.lower().endswith(".xml"):
            error = re.search(r"<(?:m:)?ERR_DESC>(.*?)</", text)
            raise FetchError("provider_error", f"CAISO: {error.group(1) if error else 'an XML answer'}")
        for item in csv.DictReader(io.StringIO(text)):
            component = COMPONENTS.get(item["LMP_TYPE"])
            if component is None:
                continue
            start = _timestamp(item["INTERVALSTARTTIME_GMT"])
            end = _timestamp(item["INTERVALENDTIME_GMT"])
            node = item["NODE"]
            row = rows.setdefault(
                (start.isoformat(), node),
                {
                    "iso_code": "CAISO",
                    "market": MARKETS.get(item["MARKET_RUN_ID"], "UNKNOWN"),
                    "location_id": node,
                    "location_name": node,
                    "location_type": "NODE",
                    "delivery_date": datetime.fromisoformat(item["OPR_DT"]).date(),
                    "interval_start": start,
                    "interval_end": end,
                    "interval_minutes": int((end - start).total_seconds() // 60),
                    "currency": "USD",
                    "uom": "MWh",
                    "timezone": "America/Los_Angeles",
                    **lineage(recorded),
                },
            )
            row[component] = number(item["MW"])
    return [row for row in rows.values() if row.get("price_total") is not None]


def fetch(client: FeedClient, dataset: FeedDataset, window: Window) -> list[dict[str, Any]]:
    params: dict[str, Any] = {
        "queryname": "PRC_LMP",
        "market_run_id": dataset.params.get("market_run_id", "DAM"),
        "startdatetime": oasis_time(window.start),
        "enddatetime": oasis_time(window.end),
        "version": 12,
        "resultformat": 6,
    }
    nodes = dataset.params.get("nodes") or []
    if nodes:
        params["node"] = ",".join(nodes)
    else:
        params["grp_type"] = "ALL"
    response, recorded = client.get(BASE_URL, params)
    return [
        row
        for row in parse(response.content, dataset, recorded)
        if window.start <= row["interval_start"] < window.end
    ]
