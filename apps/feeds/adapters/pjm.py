"""PJM Data Miner 2 (``https://api.pjm.com/api/v1/{feed}``, JSON): LMPs by pricing node and hour (or five
minutes). The key goes in the ``Ocp-Apim-Subscription-Key`` header (``AURUM_PJM_API_KEY``).

A response is ``{"links": [...], "items": [...], "searchSpecification": {...}, "totalRows": n}``; pages are
asked with ``startRow`` (1-based) and ``rowCount`` (at most 50,000) until ``totalRows`` rows came back. Each
item carries ``datetime_beginning_utc`` (naive, UTC) and ``datetime_beginning_ept`` (naive, Eastern
Prevailing Time); the UTC field is the instant (unambiguous on the fall-back day, when EPT repeats 01:00),
the EPT one gives the operating day. Prices are ``total_lmp_{da,rt}``, ``system_energy_price_*``,
``congestion_price_*`` and ``marginal_loss_price_*`` in $/MWh; the unverified five-minute feed has no
energy component (it is the total less congestion and loss). The time filter is in EPT and inclusive at
both ends (``MM/DD/YYYY HH:MMtoMM/DD/YYYY HH:MM``): rows outside the UTC window are left out.

Dataset params: ``feed`` (the Data Miner feed), ``suffix`` (``da`` or ``rt``), ``market``,
``interval_minutes``, ``nodes`` (pnode ids; empty: every node), ``row_count``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apps.feeds.adapters.base import FeedClient, FeedDataset, FetchError, Window, json_body, lineage, number

BASE_URL = "https://api.pjm.com/api/v1/"
KEY_SETTING = "AURUM_PJM_API_KEY"
EPT = ZoneInfo("America/New_York")
MAX_ROWS = 50_000
MAX_PAGES = 200


def ept_range(window: Window) -> str:
    """The window as Data Miner's inclusive EPT range (its last minute is the window's end less one)."""
    first = window.start.astimezone(EPT)
    last = (window.end - timedelta(minutes=1)).astimezone(EPT)
    return f"{first:%m/%d/%Y %H:%M}to{last:%m/%d/%Y %H:%M}"


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "")).replace(tzinfo=UTC)


def parse(body: Any, dataset: FeedDataset, recorded: Any) -> tuple[list[dict[str, Any]], int, int]:
    """The page's rows, the number of items it held and the ``totalRows`` it announces."""
    try:
        items = body["items"]
        total = int(body["totalRows"])
    except (KeyError, TypeError, ValueError) as exc:
        raise FetchError("parse", "PJM: the body has no items/totalRows") from exc
    suffix = dataset.params["suffix"]
    minutes = int(dataset.params.get("interval_minutes", 60))
    rows = []
    for item in items:
        try:
            start = _utc(item["datetime_beginning_utc"])
            local_day = datetime.fromisoformat(item["datetime_beginning_ept"]).date()
            node = str(item["pnode_id"])
        except (KeyError, TypeError, ValueError) as exc:
            raise FetchError("parse", f"PJM: an item without its time or node: {exc}") from exc
        total_lmp = number(item.get(f"total_lmp_{suffix}"))
        if total_lmp is None:
            continue
        congestion = number(item.get(f"congestion_price_{suffix}"))
        loss = number(item.get(f"marginal_loss_price_{suffix}"))
        energy = number(item.get(f"system_energy_price_{suffix}"))
        if energy is None and congestion is not None and loss is not None:
            energy = round(total_lmp - congestion - loss, 6)
        rows.append(
            {
                "iso_code": "PJM",
                "market": dataset.params["market"],
                "location_id": node,
                "location_name": item.get("pnode_name") or node,
                "location_type": item.get("type") or "NODE",
                "zone": item.get("zone") or None,
                "delivery_date": local_day,
                "interval_start": start,
                "interval_end": start + timedelta(minutes=minutes),
                "interval_minutes": minutes,
                "price_total": total_lmp,
                "price_energy": energy,
                "price_congestion": congestion,
                "price_loss": loss,
                "currency": "USD",
                "uom": "MWh",
                "timezone": "America/New_York",
                **lineage(recorded),
            }
        )
    return rows, len(items), total


def fetch(client: FeedClient, dataset: FeedDataset, window: Window) -> list[dict[str, Any]]:
    key = client.key(KEY_SETTING)
    row_count = min(int(dataset.params.get("row_count", MAX_ROWS)), MAX_ROWS)
    params: dict[str, Any] = {"datetime_beginning_ept": ept_range(window)}
    nodes = dataset.params.get("nodes") or []
    if nodes:
        params["pnode_id"] = ";".join(str(n) for n in nodes)
    if dataset.params.get("current_only", True):
        params["row_is_current"] = "TRUE"
    url = BASE_URL + dataset.params["feed"]
    rows: list[dict[str, Any]] = []
    start_row = 1
    for _ in range(MAX_PAGES):
        page_params = {**params, "startRow": start_row, "rowCount": row_count}
        response, recorded = client.get(url, page_params, headers={"Ocp-Apim-Subscription-Key": key})
        page, returned, total = parse(json_body(response, "PJM"), dataset, recorded)
        rows.extend(page)
        start_row += returned
        if returned == 0 or start_row > total:
            break
    else:
        raise FetchError("parse", f"PJM: more than {MAX_PAGES} pages for one window")
    return [row for row in rows if window.start <= row["interval_start"] < window.end]
