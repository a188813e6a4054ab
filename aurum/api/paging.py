"""One v1 pager and one v2 pager for every list.

One cursor convention: a cursor carries the offset of the page it points to (``next_cursor`` the page after,
``prev_cursor`` the page before) and is signed and bound to the list and the filters it was issued for
(``aurum.api.cursors``): the list is the request's path, so a cursor of one list is refused by every other,
even one with the same filters. v1 also takes ``offset`` (not with a cursor) and ``since_cursor`` /
``prev_cursor`` as names for a cursor; v2 takes ``cursor`` only, and refuses ``offset`` rather than ignore it
(a client that sends one expects a page it would not get).

A page is fetched with one row more than it shows: the extra row only says that more follow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from rest_framework.request import Request

from aurum.api.cursors import (
    PaginationError,
    cursor_decode,
    cursor_encode,
    v1_paging_params,
    v2_cursor_decode,
    v2_cursor_encode,
)
from aurum.errors import InvalidInputError

T = TypeVar("T")
MSG_V2_OFFSET = "v2 pages by cursor only: follow links.next (or meta.next_cursor) instead of giving offset"


# The key under which a cursor's filters hold the path of the list it was issued for.
LIST_KEY = "__list__"


@dataclass(frozen=True)
class PageRequest:
    offset: int
    limit: int
    # The list (the tenant's schema and the request's path, ``list_of``): the page's cursors are bound to it.
    list_path: str


def list_bound(filters: Mapping[str, Any], *, list_path: str) -> dict[str, Any]:
    """``filters`` and the list they page: what a cursor carries and is checked against."""
    return {**filters, LIST_KEY: list_path}


def list_of(request: HttpRequest | Request) -> str:
    """The list a request pages, as its cursors carry it: the tenant's schema and the path. Another
    tenant's cursor, or another list's, does not match (``Cursor filters do not match``)."""
    schema: str = connection.schema_name  # type: ignore[attr-defined]  # django-tenants' connection
    return f"{schema}:{request.path}"


def _query(request: HttpRequest | Request) -> QueryDict:
    return request.query_params if isinstance(request, Request) else request.GET


def limit_parse(request: HttpRequest | Request, *, maximum: int) -> int | None:
    """``limit`` as given (1..maximum), or None when absent; anything else is a 400 problem."""
    raw = _query(request).get("limit")
    if raw in (None, ""):
        return None
    text = str(raw).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 9 or not 1 <= int(text) <= maximum:
        raise InvalidInputError.field("limit", f"limit must be an integer from 1 to {maximum}.")
    return int(text)


def v1_page_request(
    request: HttpRequest | Request, *, filters: Mapping[str, Any], default: int, maximum: int
) -> PageRequest:
    """offset and limit from ``limit`` plus one of cursor / since_cursor / prev_cursor / offset."""
    limit = limit_parse(request, maximum=maximum)
    paging = v1_paging_params(_query(request))
    if paging.cursor:
        data = cursor_decode(paging.cursor, filters=list_bound(filters, list_path=list_of(request)))
        return PageRequest(
            offset=data.offset, limit=min(limit or data.limit, maximum), list_path=list_of(request)
        )
    return PageRequest(offset=paging.offset or 0, limit=limit or default, list_path=list_of(request))


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
    next_cursor, prev_cursor = _cursors(page, has_more=has_more, filters=filters, encode=cursor_encode)
    if next_cursor:
        meta["next_cursor"] = next_cursor
    if prev_cursor:
        meta["prev_cursor"] = prev_cursor
    return meta


def v2_page_request(
    request: HttpRequest | Request, *, filters: Mapping[str, Any], default: int = 10, maximum: int = 100
) -> PageRequest:
    """``limit`` (1..maximum) and the offset of ``cursor``, which must have been issued for ``filters``."""
    if _query(request).get("offset") not in (None, ""):
        raise PaginationError(MSG_V2_OFFSET)
    limit = limit_parse(request, maximum=maximum)
    token = _query(request).get("cursor")
    if token:
        data = v2_cursor_decode(token, filters=list_bound(filters, list_path=list_of(request)))
        return PageRequest(
            offset=data.offset, limit=min(limit or data.limit, maximum), list_path=list_of(request)
        )
    return PageRequest(offset=0, limit=limit or default, list_path=list_of(request))


def v2_page_cursors(
    page: PageRequest, *, has_more: bool, filters: Mapping[str, Any]
) -> tuple[str | None, str | None]:
    """(next_cursor, prev_cursor) for a v2 page."""
    return _cursors(page, has_more=has_more, filters=filters, encode=v2_cursor_encode)


def _cursors(
    page: PageRequest, *, has_more: bool, filters: Mapping[str, Any], encode: Any
) -> tuple[str | None, str | None]:
    filters = list_bound(filters, list_path=page.list_path)
    next_cursor = (
        encode(offset=page.offset + page.limit, limit=page.limit, filters=filters) if has_more else None
    )
    prev_cursor = (
        encode(offset=max(0, page.offset - page.limit), limit=page.limit, filters=filters)
        if page.offset > 0
        else None
    )
    return next_cursor, prev_cursor


def page_slice(items: QuerySet[Any] | Sequence[T], page: PageRequest) -> tuple[list[Any], bool]:
    """The page's rows of a queryset or sequence (one query: ``limit + 1`` rows) and whether more follow."""
    rows = list(items[page.offset : page.offset + page.limit + 1])
    return rows[: page.limit], len(rows) > page.limit
