"""MISO real-time LMP from the Data Broker (``getlmpconsolidatedtable``, JSON): the current five-minute
interval, ``LMPData.FiveMinLMP.PricingNode[{name, LMP, MLC, MCC}]``, its time in ``RefId``
("15-Jan-2024 - Interval 02:15 EST", market time: EST all year). No key. Each call answers the interval
current at the time; rows outside the fetch window are left out.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from apps.feeds.adapters.base import FeedClient, FeedDataset, FetchError, Window, json_body, lineage, number

BASE_URL = "https://api.misoenergy.org/MISORTWDDataBroker/DataBrokerServices.asmx"
EST = timezone(timedelta(hours=-5))
REF_ID = re.compile(r"(\d{1,2}-[A-Za-z]{3}-\d{4}) - Interval (\d{2}:\d{2}) EST")


def parse(body: Any, dataset: FeedDataset, recorded: Any) -> list[dict[str, Any]]:
    try:
        data = body["LMPData"]
        nodes = data["FiveMinLMP"]["PricingNode"]
        match = REF_ID.search(str(data["RefId"]))
    except (KeyError, TypeError) as exc:
        raise FetchError("parse", "MISO: the body has no LMPData.FiveMinLMP.PricingNode") from exc
    if match is None:
        raise FetchError("parse", "MISO: RefId names no interval")
    local = datetime.strptime(f"{match.group(1)} {match.group(2)}", "%d-%b-%Y %H:%M").replace(tzinfo=EST)
    start = local.astimezone(UTC)
    end = (local + timedelta(minutes=5)).astimezone(UTC)
    rows = []
    for node in nodes:
        lmp = number(node.get("LMP"))
        congestion = number(node.get("MCC"))
        loss = number(node.get("MLC"))
        if lmp is None:
            continue
        energy = None if congestion is None or loss is None else round(lmp - congestion - loss, 6)
        rows.append(
            {
                "iso_code": "MISO",
                "market": "REAL_TIME",
                "location_id": str(node["name"]),
                "location_name": str(node["name"]).split(".")[0],
                "location_type": "NODE",
                "delivery_date": local.date(),
                "interval_start": start,
                "interval_end": end,
                "interval_minutes": 5,
                "price_total": lmp,
                "price_energy": energy,
                "price_congestion": congestion,
                "price_loss": loss,
                "currency": "USD",
                "uom": "MWh",
                "timezone": "EST",
                **lineage(recorded),
            }
        )
    return rows


def fetch(client: FeedClient, dataset: FeedDataset, window: Window) -> list[dict[str, Any]]:
    params = {"messageType": "getlmpconsolidatedtable", "returnType": "json"}
    response, recorded = client.get(BASE_URL, params)
    rows = parse(json_body(response, "MISO"), dataset, recorded)
    return [row for row in rows if window.start <= row["interval_start"] < window.end]
