"""Offset paging behind signed cursors for the PPA lists: v1 (cursor / since_cursor / prev_cursor / offset,
``{meta, data}``) and v2 (cursor only, ``links``). A cursor is bound to the filters it was issued for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.request import Request

from aurum.api.cursors import (
    cursor_decode,
    cursor_encode,
    v1_paging_params,
    v2_cursor_decode,
    v2_cursor_encode,
)


@dataclass(frozen=True)
class PageRequest:
    offset: int
    limit: int


def _limit(request: Request, *, default: int, maximum: int) -> int | None:
    raw = request.query_params.get("limit")
    if raw in (None, ""):
        return None
    try:
        limit = int(str(raw))
    except ValueError:
        limit = 0
    if not 1 <= limit <= maximum:
        raise ValidationError(
            {"limit": [ErrorDetail(f"limit must be an integer from 1 to {maximum}.", code="invalid")]}
        )
    return limit


def v1_page_request(
    request: Request, *, filters: Mapping[str, Any], default: int, maximum: int
) -> PageRequest:
    """offset and limit from ``limit`` plus one of cursor / since_cursor / prev_cursor / offset."""
    limit = _limit(request, default=default, maximum=maximum)
    paging = v1_paging_params(request.query_params)
    if paging.cursor:
        data = cursor_decode(paging.cursor, filters=filters)
        return PageRequest(offset=data.offset, limit=limit or data.limit)
    return PageRequest(offset=paging.offset or 0, limit=limit or default)


def v1_page_meta(
    page: PageRequest, *, returned: int, has_more: bool, filters: Mapping[str, Any]
) -> dict[str, Any]:
    """The v1 meta paging fields: next_cursor / prev_cursor (signed), has_more, count, offset, limit."""
    meta: dict[str, Any] = {
        "has_more": has_more,
        "count": returned,
        "offset": page.offset,
        "limit": page.limit,
    }
    if has_more:
        meta["next_cursor"] = cursor_encode(
            offset=page.offset + page.limit, limit=page.limit, filters=filters
        )
    if page.offset > 0:
        meta["prev_cursor"] = cursor_encode(
            offset=max(0, page.offset - page.limit), limit=page.limit, filters=filters
        )
    return meta


def v2_page_request(
    request: Request, *, filters: Mapping[str, Any], default: int = 10, maximum: int = 100
) -> PageRequest:
    limit = _limit(request, default=default, maximum=maximum)
    token = request.query_params.get("cursor")
    if token:
        data = v2_cursor_decode(token, filters=filters)
        return PageRequest(offset=data.offset, limit=limit or data.limit)
    return PageRequest(offset=0, limit=limit or default)


def v2_page_cursors(
    page: PageRequest, *, has_more: bool, filters: Mapping[str, Any]
) -> tuple[str | None, str | None]:
    """(next_cursor, prev_cursor) for a v2 page."""
    next_cursor = (
        v2_cursor_encode(offset=page.offset + page.limit, limit=page.limit, filters=filters)
        if has_more
        else None
    )
    prev_cursor = (
        v2_cursor_encode(offset=max(0, page.offset - page.limit), limit=page.limit, filters=filters)
        if page.offset > 0
        else None
    )
    return next_cursor, prev_cursor
