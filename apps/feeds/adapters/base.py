"""What every provider adapter shares: the fetch window, the dataset a fetch is for, the HTTP client with
the provider's rate limit and retries, and the failures a fetch can end in.

An adapter is a module with ``fetch(client, dataset, window) -> list[dict]``: it builds the provider's
requests, follows its paging and parses each response into rows of the common schema (the columns of
``market.series_observation`` or ``market.iso_lmp``), each row with the URL (no secrets) and the sha256 of
the response it came from. The outside world is only reached through ``FeedClient``; tests give it an
``httpx.MockTransport`` replaying recorded responses.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import structlog
from django.conf import settings

from aurum.api.throttling import rate_take

log = structlog.get_logger(__name__)
SECRET_PARAMS = frozenset({"api_key", "token", "apikey", "api-key"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF_SECONDS = 60.0


@dataclass(frozen=True)
class Window:
    """A half-open UTC time range ``[start, end)``: what one fetch asks for and replaces."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a window's bounds carry a zone")
        if self.end <= self.start:
            raise ValueError("a window ends after it starts")

    @classmethod
    def days(cls, first: str, last: str) -> Window:
        """The whole days ``first`` to ``last`` (YYYY-MM-DD, inclusive)."""
        start = datetime.fromisoformat(first).replace(tzinfo=UTC)
        end = datetime.fromisoformat(last).replace(tzinfo=UTC) + timedelta(days=1)
        return cls(start, end)

    @property
    def last_day(self) -> str:
        """The last calendar day (UTC) the window touches."""
        return (self.end - timedelta(microseconds=1)).date().isoformat()


@dataclass(frozen=True)
class FeedDataset:
    """One dataset of one provider, fetched by windows (``apps.feeds.datasets`` lists them)."""

    provider: str  # EIA, FRED, NOAA, CAISO, MISO, PJM, ERCOT, USDM
    dataset: str  # the watermark's key: an EIA route, a FRED series, a NOAA dataset, an OASIS query…
    kind: str  # "series", "lmp" or "usdm": the table it lands in
    # LMP datasets name the ``market`` their rows carry (DAY_AHEAD…): a window's rows are (iso, market, time)
    params: Mapping[str, Any] = field(default_factory=dict)


class FetchError(Exception):
    """A fetch that cannot complete: stored on its run (``code``, message), never raised out of a task."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Recorded:
    """One request as the lineage keeps it."""

    url: str
    sha256: str
    status: int


@dataclass(frozen=True)
class ProviderLimits:
    burst: int
    per_second: float


# Provider quotas (spec 5.2): EIA 10 rps, FRED 100 rps, NOAA 5 rps, ISOs 2 rps.
PROVIDER_LIMITS: dict[str, ProviderLimits] = {
    "EIA": ProviderLimits(10, 10.0),
    "FRED": ProviderLimits(20, 100.0),
    "NOAA": ProviderLimits(5, 5.0),
    "CAISO": ProviderLimits(1, 0.2),  # OASIS answers 429 to more than one request in 5 s
    "MISO": ProviderLimits(2, 2.0),
    # Conservative guesses (neither limit was verified): one PJM Data Miner request in 10 s, two ERCOT
    # public-API requests a second in bursts of 2; a 429 is retried honouring Retry-After anyway.
    "PJM": ProviderLimits(1, 0.1),
    "ERCOT": ProviderLimits(2, 0.5),
    "USDM": ProviderLimits(2, 2.0),
}


def redacted_url(url: str, params: Mapping[str, Any]) -> str:
    """The request URL as lineage stores it: query parameters in order, secrets left out."""
    kept = [(k, v) for k, v in _pairs(params) if k.lower() not in SECRET_PARAMS]
    return f"{url}?{urlencode(kept)}" if kept else url


def _pairs(params: Mapping[str, Any]) -> list[tuple[str, Any]]:
    pairs: list[tuple[str, Any]] = []
    for key, value in params.items():
        if isinstance(value, list | tuple):
            pairs.extend((key, item) for item in value)
        else:
            pairs.append((key, value))
    return pairs


class FeedClient:
    """HTTP for one provider: its rate-limit bucket (Redis, shared by every worker), transport retries on
    connection errors, and retries with exponential backoff on 429 and 5xx (``Retry-After`` honoured)."""

    def __init__(
        self,
        provider: str,
        *,
        transport: httpx.BaseTransport | None = None,
        keys: Mapping[str, str] | None = None,
    ) -> None:
        self.provider = provider
        self.keys = dict(keys or {})  # a replay's stand-in keys; otherwise the settings' (AURUM_EIA_API_KEY…)
        self.limits = PROVIDER_LIMITS.get(provider, ProviderLimits(1, 1.0))
        # The bucket protects the provider: a stand-in transport (a replay of recordings) reaches no one and
        # takes no token (else replaying PJM's recordings would wait 10 s a request).
        self.rate_limited = transport is None
        self.recorded: list[Recorded] = []
        self.client = httpx.Client(
            transport=transport or httpx.HTTPTransport(retries=2),
            timeout=settings.AURUM_FEEDS_TIMEOUT_SECONDS,
            follow_redirects=True,
            headers={"User-Agent": "Aurum feeds (+https://aurum.example)"},
        )

    def key(self, setting: str) -> str:
        """The provider's API key (``setting`` names it); a FetchError "no_api_key" when there is none."""
        key: str = self.keys.get(setting) or getattr(settings, setting, "") or ""
        if not key:
            raise FetchError("no_api_key", f"{self.provider}: no API key configured ({setting})")
        return key

    def close(self) -> None:
        self.client.close()

    def _wait_for_token(self) -> None:
        if not self.rate_limited:
            return
        for _ in range(50):
            state = rate_take(
                key=f"feeds:{self.provider}", burst=self.limits.burst, per_second=self.limits.per_second
            )
            if state is None or state.retry_after is None:
                return
            time.sleep(min(state.retry_after, MAX_BACKOFF_SECONDS))

    def get(
        self, url: str, params: Mapping[str, Any], *, headers: Mapping[str, str] | None = None
    ) -> tuple[httpx.Response, Recorded]:
        """GET with retries; a response other than 2xx after them, or no answer at all, is a FetchError."""
        return self._send("GET", url, params, headers=headers)

    def post_form(
        self, url: str, form: Mapping[str, str], *, headers: Mapping[str, str] | None = None
    ) -> tuple[httpx.Response, Recorded]:
        """POST a form (a sign-in: its fields may be secrets, so lineage keeps only the URL), with the same
        retries as ``get``."""
        return self._send("POST", url, {}, headers=headers, form=form)

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any],
        *,
        headers: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
    ) -> tuple[httpx.Response, Recorded]:
        attempts = max(1, settings.AURUM_FEEDS_RETRIES + 1)
        shown = redacted_url(url, params)
        response: httpx.Response | None = None
        for attempt in range(attempts):
            self._wait_for_token()
            try:
                response = self.client.request(
                    method, url, params=_pairs(params), headers=dict(headers or {}), data=form
                )
            except httpx.HTTPError as exc:
                if attempt == attempts - 1:
                    raise FetchError("network", f"{self.provider}: {type(exc).__name__}: {exc}") from exc
                self._backoff(attempt, None)
                continue
            if response.status_code in RETRY_STATUSES and attempt < attempts - 1:
                log.info(
                    "feed request retried", provider=self.provider, status=response.status_code, url=shown
                )
                self._backoff(attempt, response.headers.get("Retry-After"))
                continue
            break
        assert response is not None
        recorded = Recorded(
            url=shown, sha256=hashlib.sha256(response.content).hexdigest(), status=response.status_code
        )
        self.recorded.append(recorded)
        if not response.is_success:
            raise FetchError(
                f"http_{response.status_code}", f"{self.provider} answered {response.status_code}: {shown}"
            )
        return response, recorded

    def _backoff(self, attempt: int, retry_after: str | None) -> None:
        base = settings.AURUM_FEEDS_BACKOFF_SECONDS
        delay = base * (2**attempt)
        if retry_after and retry_after.isdigit():
            delay = max(delay, float(retry_after) if base else 0.0)
        time.sleep(min(delay, MAX_BACKOFF_SECONDS))


def lineage(recorded: Recorded) -> dict[str, str]:
    return {"request_url": recorded.url, "response_sha256": recorded.sha256}


def json_body(response: httpx.Response, provider: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise FetchError("parse", f"{provider} answered something that is not JSON") from exc


def number(raw: Any) -> float | None:
    """A provider's value as a float; None for its missing markers ("", ".", "NA", null)."""
    if raw is None:
        return None
    text = str(raw).strip()
    if text in ("", ".", "NA", "N/A", "--", "null"):
        return None
    try:
        return float(text)
    except ValueError:
        return None


def ordered(rows: Sequence[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: tuple(str(row.get(k) or "") for k in keys))
