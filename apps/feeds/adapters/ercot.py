"""ERCOT public API (``https://api.ercot.com/api/public-reports/{emil}/{report}``, JSON): settlement point
prices of the day-ahead market (NP4-190-CD, hourly) and of the real-time market (NP6-905-CD, 15 minutes).

Two credentials, both from settings: the subscription key (``Ocp-Apim-Subscription-Key``,
``AURUM_ERCOT_SUBSCRIPTION_KEY``) and a bearer token that ERCOT's Azure B2C sign-in issues for the ERCOT API
account (resource-owner password flow: ``AURUM_ERCOT_USERNAME`` / ``AURUM_ERCOT_PASSWORD``; the token lasts
an hour, so one is asked per fetch and never stored).

A response is ``{"_meta": {"totalRecords", "pageSize", "totalPages", "currentPage", ...}, "report": {...},
"fields": [{"name": ...}, ...], "data": [[...], ...]}``: ``data`` rows are arrays in the order of
``fields`` (read by name, never by position); pages are asked with ``page`` (1-based) and ``size`` until
``totalPages``. Times are Central Prevailing Time: ``deliveryDate`` plus ``hourEnding`` ("01:00".."24:00")
for the DAM, ``deliveryHour`` (1..24, hour ending) and ``deliveryInterval`` (1..4) for the real-time
prices. On the fall-back day the repeated hour comes twice; ``DSTFlag`` is true on the second (standard
time) one. On the spring-forward day the hour ending 03:00 does not exist. Prices in $/MWh; settlement
point prices have no components.

Dataset params: ``report`` (the path), ``market``, ``interval_minutes``, ``points`` (settlement points;
empty: every one), ``size``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apps.feeds.adapters.base import FeedClient, FeedDataset, FetchError, Window, json_body, lineage, number

BASE_URL = "https://api.ercot.com/api/public-reports/"
TOKEN_URL = "https://ercotb2c.b2clogin.com/ercotb2c.onmicrosoft.com/B2C_1_PUBAPI-ROPC-FLOW/oauth2/v2.0/token"
CLIENT_ID = "fec253ea-0d06-4272-a5e6-b478baeecd70"  # ERCOT's public API client (its developer documentation)
KEY_SETTING = "AURUM_ERCOT_SUBSCRIPTION_KEY"
USER_SETTING = "AURUM_ERCOT_USERNAME"
PASSWORD_SETTING = "AURUM_ERCOT_PASSWORD"
CPT = ZoneInfo("America/Chicago")
MAX_PAGE_SIZE = 50_000
MAX_PAGES = 200
POINT_TYPES = {"HU": "HUB", "LZ": "ZONE", "LZEW": "ZONE", "RN": "NODE", "PCCRN": "NODE", "PUN": "NODE"}


def token(client: FeedClient) -> str:
    """A bearer token for the ERCOT API account; FetchError "no_api_key" without the account, "auth" when
    ERCOT refuses it."""
    username, password = client.key(USER_SETTING), client.key(PASSWORD_SETTING)
    form = {
        "grant_type": "password",
        "username": username,
        "password": password,
        "response_type": "id_token",
        "scope": f"openid {CLIENT_ID} offline_access",
        "client_id": CLIENT_ID,
    }
    try:
        response, _ = client.post_form(TOKEN_URL, form)
    except FetchError as exc:
        if exc.code.startswith("http_4"):
            raise FetchError("auth", f"ERCOT refused the API account's sign-in ({exc.code})") from exc
        raise
    body = json_body(response, "ERCOT")
    found = body.get("id_token") or body.get("access_token") if isinstance(body, dict) else None
    if not found:
        raise FetchError("auth", "ERCOT's sign-in answered no token")
    return str(found)


def local_start(day: date, hour_ending: int, minute: int, repeated: bool) -> datetime:
    """The UTC start of the interval beginning ``minute`` past hour ``hour_ending - 1`` of ``day`` (CPT);
    ``repeated`` picks the second occurrence of the fall-back hour."""
    naive = datetime.combine(day, time(0)) + timedelta(hours=hour_ending - 1, minutes=minute)
    return naive.replace(tzinfo=CPT, fold=1 if repeated else 0).astimezone(UTC)


def _flag(value: Any) -> bool:
    return value is True or str(value).strip().upper() in ("TRUE", "Y")


def parse(body: Any, dataset: FeedDataset, recorded: Any) -> tuple[list[dict[str, Any]], int]:
    """The page's rows and the ``totalPages`` it announces."""
    try:
        names = [field["name"] for field in body["fields"]]
        data = body["data"]
        pages = int(body["_meta"]["totalPages"])
    except (KeyError, TypeError, ValueError) as exc:
        raise FetchError("parse", "ERCOT: the body has no fields/data/_meta.totalPages") from exc
    minutes = int(dataset.params.get("interval_minutes", 60))
    needed = {"deliveryDate", "settlementPoint", "settlementPointPrice"}
    needed |= {"hourEnding"} if minutes == 60 else {"deliveryHour", "deliveryInterval"}
    missing = sorted(needed - set(names))
    if missing:
        raise FetchError("parse", f"ERCOT: the report has no field {', '.join(missing)}")
    rows = []
    for values in data:
        if len(values) != len(names):
            raise FetchError("parse", f"ERCOT: a row of {len(values)} values for {len(names)} fields")
        item = dict(zip(names, values, strict=True))
        price = number(item["settlementPointPrice"])
        if price is None:
            continue
        try:
            day = date.fromisoformat(str(item["deliveryDate"]))
            if minutes == 60:
                hour, minute = int(str(item["hourEnding"]).split(":")[0]), 0
            else:
                hour, minute = int(item["deliveryHour"]), (int(item["deliveryInterval"]) - 1) * minutes
        except (TypeError, ValueError) as exc:
            raise FetchError("parse", f"ERCOT: a row without its delivery time: {exc}") from exc
        start = local_start(day, hour, minute, _flag(item.get("DSTFlag")))
        point = str(item["settlementPoint"])
        rows.append(
            {
                "iso_code": "ERCOT",
                "market": dataset.params["market"],
                "location_id": point,
                "location_name": point,
                "location_type": POINT_TYPES.get(str(item.get("settlementPointType") or ""), _kind(point)),
                "delivery_date": day,
                "interval_start": start,
                "interval_end": start + timedelta(minutes=minutes),
                "interval_minutes": minutes,
                "price_total": price,
                "price_energy": None,
                "price_congestion": None,
                "price_loss": None,
                "currency": "USD",
                "uom": "MWh",
                "timezone": "America/Chicago",
                **lineage(recorded),
            }
        )
    return rows, pages


def _kind(point: str) -> str:
    return "HUB" if point.startswith("HB_") else "ZONE" if point.startswith("LZ_") else "NODE"


def fetch(client: FeedClient, dataset: FeedDataset, window: Window) -> list[dict[str, Any]]:
    key = client.key(KEY_SETTING)
    headers = {"Authorization": f"Bearer {token(client)}", "Ocp-Apim-Subscription-Key": key}
    params: dict[str, Any] = {
        "deliveryDateFrom": window.start.astimezone(CPT).date().isoformat(),
        "deliveryDateTo": (window.end - timedelta(microseconds=1)).astimezone(CPT).date().isoformat(),
        "size": min(int(dataset.params.get("size", MAX_PAGE_SIZE)), MAX_PAGE_SIZE),
    }
    points = dataset.params.get("points") or []
    url = BASE_URL + dataset.params["report"]
    rows: list[dict[str, Any]] = []
    for point in points or [None]:
        for page in range(1, MAX_PAGES + 1):
            page_params = {**params, **({"settlementPoint": point} if point else {}), "page": page}
            response, recorded = client.get(url, page_params, headers=headers)
            found, pages = parse(json_body(response, "ERCOT"), dataset, recorded)
            rows.extend(found)
            if page >= pages:
                break
        else:
            raise FetchError("parse", f"ERCOT: more than {MAX_PAGES} pages for one window")
    return [row for row in rows if window.start <= row["interval_start"] < window.end]
