"""The API's responses: one v1 and one v2 list response, one object response, and pages already serialised
as bytes (curve reads). Each sets ETag (over the content, never ``meta``), a private Cache-Control and, for
v2 lists, ``links`` and the ``Link`` header; each answers the request's preconditions (304 / 412).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from rest_framework.request import Request
from rest_framework.response import Response

from aurum.api.conditional import cache_control, cached_response, etag_for_bytes, preconditions
from aurum.api.context import request_context
from aurum.api.envelope import envelope, envelope_v2, link_header
from aurum.api.paging import PageRequest, v1_page_meta, v2_page_cursors
from aurum.observability.context import current_request_id
from aurum.observability.middleware import request_elapsed_ms

JSON = "application/json"
CSV = "text/csv; charset=utf-8"


def _django(request: HttpRequest | Request) -> HttpRequest:
    return request._request if isinstance(request, Request) else request


def elapsed_ms(request: HttpRequest | Request) -> float:
    return request_elapsed_ms(_django(request))


def v2_list_response(
    request: Request,
    data: list[Any],
    *,
    page: PageRequest,
    has_more: bool,
    filters: Mapping[str, Any],
    ttl: int = 0,
) -> Response:
    """A v2 page: ``{meta, data, links}`` with signed next/prev cursors bound to ``filters``."""
    next_cursor, prev_cursor = v2_page_cursors(page, has_more=has_more, filters=filters)
    took = elapsed_ms(request)
    body = envelope_v2(
        request,
        data,
        tenant_id=request_context(request).tenant.schema_name,
        query_time_ms=took,
        processing_time_ms=took,
        next_cursor=next_cursor,
        prev_cursor=prev_cursor,
        has_more=has_more,
        limit=page.limit,
    )
    return cached_response(request, body, ttl=ttl)


def v1_list_response(
    request: Request,
    data: list[Any],
    *,
    page: PageRequest,
    has_more: bool,
    filters: Mapping[str, Any],
    ttl: int = 0,
) -> Response:
    """A v1 page: ``{meta, data}`` with the v1 paging fields in ``meta``."""
    body = envelope(data, query_time_ms=elapsed_ms(request))
    body["meta"].update(v1_page_meta(page, returned=len(data), has_more=has_more, filters=filters))
    return cached_response(request, body, ttl=ttl)


def object_response(
    request: Request, data: Any, *, ttl: int = 0, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """One object as ``{meta, data}`` (v1 and v2 alike), with ETag and Cache-Control; a GET may get a 304."""
    response = cached_response(
        request, envelope(data, query_time_ms=elapsed_ms(request)), ttl=ttl, status_code=status
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


# --- pages serialised as bytes ----------------------------------------------------------------------------


def _dumps(value: Any) -> bytes:
    return json.dumps(value, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def json_bytes_response(
    request: HttpRequest | Request,
    *,
    meta: dict[str, Any],
    data: bytes,
    ttl: int,
    links: dict[str, str | None] | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse | Response:
    """``{"meta": …, "data": <data>, "links"?: …, **extra}`` for ``data`` already serialised as a JSON array;
    ETag over the content (not meta), Cache-Control, Link; or the 304/412 the preconditions call for."""
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


def csv_bytes_response(
    request: HttpRequest | Request,
    *,
    data: bytes,
    filename: str,
    ttl: int,
    next_cursor: str | None = None,
    prev_cursor: str | None = None,
) -> HttpResponse | Response:
    """A CSV page already serialised: sent whole, with ``X-Next-Cursor`` / ``X-Prev-Cursor`` for paging."""
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


def file_response(
    content: bytes,
    *,
    content_type: str,
    filename: str,
    ttl: int = 0,
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    """A downloaded file (CSV, Parquet, XLSX) with a private Cache-Control."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = cache_control(ttl)
    for name, value in (headers or {}).items():
        response[name] = value
    return response
