"""Curve read responses assembled from bytes: a page is computed (or fetched from the read cache) as
serialised JSON/CSV once, and each request only wraps it with its own ``meta`` (request id, timing,
freshly signed cursors). The ETag covers the page content, never ``meta``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from rest_framework.request import Request
from rest_framework.response import Response

from apps.curves.api.params import Caller
from aurum.api.arrow import arrow_csv, arrow_json
from aurum.api.conditional import cache_control, etag_for_bytes, preconditions
from aurum.api.envelope import link_header
from aurum.api.read_cache import read_through
from aurum.lakehouse.engines import QueryResult
from aurum.observability.context import current_request_id

CURVES_TTL = 120  # seconds (spec 3.1: curves, diff, strips)
METADATA_TTL = 300
JSON = "application/json"
CSV = "text/csv; charset=utf-8"


@dataclass(frozen=True)
class Page:
    """One computed page: the serialised rows, how many, and whether more follow."""

    body: bytes
    count: int
    has_more: bool


def page_of(result: QueryResult, columns: Sequence[str], limit: int, fmt: str = "json") -> Page:
    """``result`` was fetched with ``limit + 1`` rows: the extra row only tells that more follow."""
    table: pa.Table = result.table
    has_more = table.num_rows > limit
    rows = table.slice(0, limit)
    body = arrow_csv(rows, columns) if fmt == "csv" else arrow_json(rows, columns)
    return Page(body=body, count=rows.num_rows, has_more=has_more)


def cached_page(
    *,
    scope: str,
    who: Caller,
    params: dict[str, Any],
    compute: Callable[[], Page],
    ttl: int = CURVES_TTL,
    versioned: frozenset[str] | None = None,
) -> Page:
    page, _ = read_through(
        scope=scope,
        tenant_id=who.tenant.pk,
        datasets=who.datasets,
        params=params,
        compute=compute,
        ttl=ttl,
        versioned=versioned,
    )
    return page


def elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _dumps(value: Any) -> bytes:
    return json.dumps(value, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def json_page_response(
    request: Request,
    *,
    meta: dict[str, Any],
    data: bytes,
    ttl: int,
    links: dict[str, str | None] | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse | Response:
    """``{"meta": …, "data": <data>, "links"?: …, **extra}`` with ETag (content only), Cache-Control, Link;
    or the 304/412 the request's preconditions call for."""
    tail = b""
    if links is not None:
        tail += b',"links":' + _dumps(links)
    for key, value in (extra or {}).items():
        tail += b',"' + key.encode() + b'":' + _dumps(value)
    headers = {"ETag": etag_for_bytes(data, tail), "Cache-Control": cache_control(ttl)}
    link = link_header(links) if links else None
    if link:
        headers["Link"] = link
    short = preconditions(request, headers)
    if short is not None:
        return short
    meta = {"request_id": current_request_id(), **meta}
    body = b'{"meta":' + _dumps(meta) + b',"data":' + data + tail + b"}"
    return HttpResponse(body, content_type=JSON, headers=headers)


def csv_page_response(
    request: Request,
    *,
    data: bytes,
    filename: str,
    ttl: int,
    next_cursor: str | None = None,
    prev_cursor: str | None = None,
) -> HttpResponse | Response:
    """A v1 CSV page (at most 500 rows, already serialised and cached): sent whole. Large files stream from
    the v2 export instead."""
    headers = {"ETag": etag_for_bytes(data), "Cache-Control": cache_control(ttl)}
    short = preconditions(request, headers)
    if short is not None:
        return short
    if next_cursor:
        headers["X-Next-Cursor"] = next_cursor
    if prev_cursor:
        headers["X-Prev-Cursor"] = prev_cursor
    headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return HttpResponse(data, content_type=CSV, headers=headers)
