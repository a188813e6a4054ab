"""The ``{meta, data}`` response envelope (v1) and its v2 form with ``links`` and a ``Link`` header."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, QueryDict
from rest_framework.request import Request

from aurum.observability.context import current_request_id


def envelope(
    data: Any,
    *,
    query_time_ms: float,
    next_cursor: str | None = None,
    prev_cursor: str | None = None,
    has_more: bool | None = None,
    count: int | None = None,
    total: int | None = None,
    offset: int | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """A v1 body: ``meta`` has ``request_id`` and ``query_time_ms``, and each optional field that is given."""
    # The v1 contract types query_time_ms as an integer (openapi-spec-v1.yaml, Meta).
    meta: dict[str, Any] = {"request_id": current_request_id(), "query_time_ms": round(query_time_ms)}
    optional = {
        "next_cursor": next_cursor,
        "prev_cursor": prev_cursor,
        "has_more": has_more,
        "count": count,
        "total": total,
        "offset": offset,
        "limit": limit,
    }
    meta.update({key: value for key, value in optional.items() if value is not None})
    return {"meta": meta, "data": data}


def page_url(request: HttpRequest | Request, *, cursor: str | None) -> str | None:
    """The request's absolute URL with ``cursor`` replaced (and ``offset`` dropped); None without a cursor."""
    if cursor is None:
        return None
    query: QueryDict = request.GET.copy()
    query.pop("offset", None)
    query["cursor"] = cursor
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def envelope_v2(
    request: HttpRequest | Request,
    data: list[Any],
    *,
    tenant_id: str,
    query_time_ms: float,
    processing_time_ms: float,
    next_cursor: str | None = None,
    prev_cursor: str | None = None,
    has_more: bool | None = None,
    total: int | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """A v2 list body: the v1 meta plus v2 fields, and ``links.self/next/prev`` as absolute URLs."""
    body = envelope(
        data,
        query_time_ms=query_time_ms,
        next_cursor=next_cursor,
        prev_cursor=prev_cursor,
        has_more=has_more,
        total=total,
        limit=limit,
    )
    body["meta"].update(
        {
            "processing_time_ms": round(processing_time_ms, 3),
            "returned_count": len(data),
            "tenant_id": tenant_id,
            "version": "v2",
        }
    )
    body["links"] = {
        "self": request.build_absolute_uri(),
        "next": page_url(request, cursor=next_cursor),
        "prev": page_url(request, cursor=prev_cursor),
    }
    return body


def link_header(links: dict[str, str | None]) -> str | None:
    """RFC 8288 ``Link`` header value for the non-null links, e.g. ``<https://…>; rel="next"``."""
    parts = [f'<{url}>; rel="{rel}"' for rel, url in links.items() if url]
    return ", ".join(parts) or None
