"""v1 curve reads, the original contract: ``/api/v1/curves``, ``/curves/diff``, ``/curves/strips``,
``/metadata/dimensions`` (spec 3.1-3.2; responses validate against openapi-spec-v1.yaml)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from django.http import HttpResponseBase
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.curves import selectors
from apps.curves.api.params import (
    V1_POINT_COLUMNS,
    Caller,
    caller,
    curve_filters,
    iso_date,
    validated,
)
from apps.curves.api.reads import PagedRead, diff_read, dims_of, points_read, strips_read
from apps.curves.api.respond import (
    CURVES_TTL,
    METADATA_TTL,
    Page,
    cached_page,
    csv_page_response,
    elapsed_ms,
    json_page_response,
    page_of,
)
from aurum.api.cursors import cursor_decode, cursor_encode, v1_paging_params
from aurum.api.permissions import Requires
from aurum.api.read_cache import read_through
from aurum.lakehouse.queries import DIFF_COLUMNS, CurveFilters

DEFAULT_LIMIT = 200
MAX_LIMIT = 1000
SERVED_LIMIT = 500
V1_DIMENSIONS = ("asset_class", "iso", "location", "market", "product", "block", "tenor_type")


class V1Paging(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT)
    format = serializers.ChoiceField(choices=("json", "csv"), default="json")


def served_limit(limit: int, dims: dict[str, Any]) -> int:
    """The spec's refusals of broad queries, then at most 500 rows a page."""
    if limit <= SERVED_LIMIT:
        return limit
    if not dims:
        raise ValidationError({"limit": f"limit above {SERVED_LIMIT} needs at least one dimension filter."})
    narrow = (
        "curve_key" in dims
        and any(name in dims for name in ("iso", "market", "product"))
        and any(name in dims for name in ("asset_class", "location"))
    )
    if not narrow:
        raise ValidationError(
            {
                "limit": (
                    f"limit above {SERVED_LIMIT} needs curve_key, one of iso/market/product and one of "
                    f"asset_class/location; at most {SERVED_LIMIT} rows are served per page."
                )
            }
        )
    return SERVED_LIMIT


def _paged(
    request: Request,
    *,
    scope: str,
    who: Caller,
    read: PagedRead,
    limit: int,
    fmt: str,
    columns: tuple[str, ...],
    started: float,
    filename: str,
) -> HttpResponseBase:
    """Offset or cursor paging (cursors are bound to ``bound``, the request's filters), cached pages."""
    bound = read.bound
    paging = v1_paging_params(request.query_params)
    offset = paging.offset or 0
    if paging.cursor:
        offset = cursor_decode(paging.cursor, filters=bound).offset

    def compute() -> Page:
        return page_of(read.fetch(limit + 1, offset), columns, limit, fmt)

    params = {**bound, "offset": offset, "limit": limit, "format": fmt}
    page = cached_page(scope=scope, who=who, params=params, compute=compute)
    next_cursor = cursor_encode(offset=offset + limit, limit=limit, filters=bound) if page.has_more else None
    prev_cursor = (
        cursor_encode(offset=max(0, offset - limit), limit=limit, filters=bound) if offset > 0 else None
    )
    if fmt == "csv":
        return csv_page_response(
            request,
            data=page.body,
            filename=filename,
            ttl=CURVES_TTL,
            next_cursor=next_cursor,
            prev_cursor=prev_cursor,
        )
    meta: dict[str, Any] = {
        "query_time_ms": round(elapsed_ms(started)),
        "has_more": page.has_more,
        "count": page.count,
        "offset": offset,
        "limit": limit,
    }
    if next_cursor:
        meta["next_cursor"] = next_cursor
    if prev_cursor:
        meta["prev_cursor"] = prev_cursor
    return json_page_response(request, meta=meta, data=page.body, ttl=CURVES_TTL)


def _v1_read(
    request: Request,
    parse: Callable[[Request, Caller], PagedRead],
    *,
    scope: str,
    columns: tuple[str, ...],
    filename: str,
) -> HttpResponseBase:
    started = time.perf_counter()
    who = caller(request)
    read = parse(request, who)
    paging = validated(V1Paging, request)
    return _paged(
        request,
        scope=scope,
        who=who,
        read=read,
        limit=served_limit(paging["limit"], read.dims),
        fmt=paging["format"],
        columns=columns,
        started=started,
        filename=filename,
    )


class CurvesV1Api(APIView):
    """``GET /api/v1/curves``: latest (default), ``asof`` or ``as_known_at`` observations."""

    permission_classes = [Requires("curves:read")]

    @extend_schema(exclude=True)
    def get(self, request: Request) -> HttpResponseBase:
        return _v1_read(
            request, points_read, scope="v1.curves", columns=V1_POINT_COLUMNS, filename="curves.csv"
        )


class CurveDiffV1Api(APIView):
    """``GET /api/v1/curves/diff``: two vintages side by side, per (curve_key, tenor_label)."""

    permission_classes = [Requires("curves:read")]

    @extend_schema(exclude=True)
    def get(self, request: Request) -> HttpResponseBase:
        return _v1_read(request, diff_read, scope="v1.diff", columns=DIFF_COLUMNS, filename="curves_diff.csv")


class CurveStripsV1Api(APIView):
    """``GET /api/v1/curves/strips?type=CALENDAR|SEASON|QUARTER``: quoted and derived strips."""

    permission_classes = [Requires("curves:read")]

    @extend_schema(exclude=True)
    def get(self, request: Request) -> HttpResponseBase:
        return _v1_read(
            request, strips_read, scope="v1.strips", columns=V1_POINT_COLUMNS, filename="curves_strips.csv"
        )


class DimensionsQuery(serializers.Serializer):
    asof = serializers.DateField(required=False)
    per_dim_limit = serializers.IntegerField(min_value=1, max_value=500, default=500)
    prefix = serializers.CharField(max_length=100, required=False)
    include_counts = serializers.BooleanField(default=False)


def dimensions_payload(
    who: Caller, dims: dict[str, Any], query: dict[str, Any], names: tuple[str, ...]
) -> tuple[dict[str, list[str]], dict[str, list[dict[str, Any]]]]:
    """(values per dimension, counts per dimension) for ``names``; counts are numbers of curves."""
    filters: CurveFilters = curve_filters(who.datasets, dims)
    values = selectors.curve_dimension_values(
        filters=filters,
        asof=query.get("asof"),
        prefix=query.get("prefix"),
        per_dim_limit=query["per_dim_limit"],
    )
    data = {name: [value for value, _ in values[name]] for name in names}
    counts = {name: [{"value": v, "count": n} for v, n in values[name]] for name in names}
    return data, counts


def dimensions_response(
    request: Request,
    *,
    scope: str,
    names: tuple[str, ...],
    meta: Callable[[Caller, float], dict[str, Any]],
) -> HttpResponseBase:
    """The dimensions read shared by v1 and v2: values (and counts) of ``names``, cached per licence."""
    started = time.perf_counter()
    dims = dims_of(request)
    query = validated(DimensionsQuery, request)
    who = caller(request)
    params = {**dims, **{k: iso_date(v) if isinstance(v, date) else v for k, v in query.items()}}

    def compute() -> dict[str, Any]:
        data, counts = dimensions_payload(who, dims, query, names)
        return {"data": data, "counts": counts}

    payload, _ = read_through(
        scope=scope,
        tenant_id=who.tenant.pk,
        datasets=who.datasets,
        params=params,
        compute=compute,
        ttl=METADATA_TTL,
    )
    return json_page_response(
        request,
        meta=meta(who, started),
        data=json.dumps(payload["data"], separators=(",", ":")).encode(),
        ttl=METADATA_TTL,
        extra={"counts": payload["counts"]} if query["include_counts"] else None,
    )


class DimensionsV1Api(APIView):
    """``GET /api/v1/metadata/dimensions``: distinct values of each curve dimension (licensed data only)."""

    permission_classes = [Requires("curves:read")]

    @extend_schema(exclude=True)
    def get(self, request: Request) -> HttpResponseBase:
        return dimensions_response(
            request,
            scope="v1.dimensions",
            names=V1_DIMENSIONS,
            meta=lambda who, started: {"query_time_ms": round(elapsed_ms(started))},
        )
