"""v1 curve reads, the original contract: ``/api/v1/curves``, ``/curves/diff``, ``/curves/strips`` (spec 3.1;
responses validate against openapi-spec-v1.yaml). Paging is the toolkit's v1 pager (``limit`` plus one of
``cursor`` / ``since_cursor`` / ``prev_cursor`` / ``offset``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from django.http import HttpResponseBase
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.curves.api.params import (
    V1_POINT_COLUMNS,
    DimensionFilters,
    Licence,
    TwoVintages,
    Vintage,
    request_licence,
    validated,
)
from apps.curves.api.reads import PagedRead, StripsQuery, diff_read, points_read, strips_read
from apps.curves.api.respond import CURVES_TTL, Page, cached_page, page_of
from apps.curves.api.schema import V1_CURVE_DIFF, V1_CURVES
from aurum.api.openapi import v1_page_parameters
from aurum.api.paging import v1_page_request
from aurum.api.permissions import Requires
from aurum.api.responses import v1_bytes_list_response
from aurum.errors import InvalidInputError
from aurum.lakehouse.queries import DIFF_COLUMNS

DEFAULT_LIMIT = 200
MAX_LIMIT = 1000
SERVED_LIMIT = 500


class V1Format(serializers.Serializer):
    format = serializers.ChoiceField(choices=("json", "csv"), default="json")


PAGE_PARAMETERS = v1_page_parameters(DEFAULT_LIMIT, MAX_LIMIT)
BROAD_QUERIES = (
    f" A limit above {SERVED_LIMIT} needs curve_key, one of iso/market/product and one of"
    f" asset_class/location; at most {SERVED_LIMIT} rows are served a page."
)


def served_limit(limit: int, dims: dict[str, Any]) -> int:
    """The spec's refusals of broad queries, then at most 500 rows a page."""
    if limit <= SERVED_LIMIT:
        return limit
    if not dims:
        raise InvalidInputError.field(
            "limit", f"limit above {SERVED_LIMIT} needs at least one dimension filter."
        )
    narrow = (
        "curve_key" in dims
        and any(name in dims for name in ("iso", "market", "product"))
        and any(name in dims for name in ("asset_class", "location"))
    )
    if not narrow:
        raise InvalidInputError.field(
            "limit",
            f"limit above {SERVED_LIMIT} needs curve_key, one of iso/market/product and one of "
            f"asset_class/location; at most {SERVED_LIMIT} rows are served per page.",
        )
    return SERVED_LIMIT


def _v1_read(
    request: Request,
    parse: Callable[[Request, Licence], PagedRead],
    *,
    scope: str,
    columns: tuple[str, ...],
    filename: str,
) -> HttpResponseBase:
    """One cached page of a paged read; cursors are bound to the read's filters."""
    licence = request_licence(request)
    read = parse(request, licence)
    fmt: str = validated(V1Format, request)["format"]
    asked = v1_page_request(request, filters=read.bound, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    page = replace(asked, limit=served_limit(asked.limit, read.dims))

    def compute() -> Page:
        return page_of(read.fetch(page.limit + 1, page.offset), columns, page.limit, fmt)

    params = {**read.bound, "offset": page.offset, "limit": page.limit, "format": fmt}
    computed = cached_page(request=request, scope=scope, licence=licence, params=params, compute=compute)
    return v1_bytes_list_response(
        request,
        computed.body,
        returned=computed.count,
        page=page,
        has_more=computed.has_more,
        filters=read.bound,
        ttl=CURVES_TTL,
        csv_filename=filename if fmt == "csv" else None,
    )


class CurvesV1Api(APIView):
    """``GET /api/v1/curves``: latest (default), ``asof`` or ``as_known_at`` observations."""

    permission_classes = [Requires("curves:read")]

    @extend_schema(
        operation_id="v1_curves_list",
        parameters=[DimensionFilters, Vintage, V1Format, *PAGE_PARAMETERS],
        responses=V1_CURVES,
        description="Licensed curve observations: the latest (default), asof or as_known_at." + BROAD_QUERIES,
    )
    def get(self, request: Request) -> HttpResponseBase:
        return _v1_read(
            request, points_read, scope="v1.curves", columns=V1_POINT_COLUMNS, filename="curves.csv"
        )


class CurveDiffV1Api(APIView):
    """``GET /api/v1/curves/diff``: two vintages side by side, per (curve_key, tenor_label)."""

    permission_classes = [Requires("curves:read")]

    @extend_schema(
        operation_id="v1_curves_diff",
        parameters=[TwoVintages, DimensionFilters, V1Format, *PAGE_PARAMETERS],
        responses=V1_CURVE_DIFF,
        description="Two vintages (at most 365 days apart) side by side; at least one filter."
        + BROAD_QUERIES,
    )
    def get(self, request: Request) -> HttpResponseBase:
        return _v1_read(request, diff_read, scope="v1.diff", columns=DIFF_COLUMNS, filename="curves_diff.csv")


class CurveStripsV1Api(APIView):
    """``GET /api/v1/curves/strips?type=CALENDAR|SEASON|QUARTER``: quoted and derived strips."""

    permission_classes = [Requires("curves:read")]

    @extend_schema(
        operation_id="v1_curves_strips",
        parameters=[StripsQuery, DimensionFilters, V1Format, *PAGE_PARAMETERS],
        responses=V1_CURVES,
        description="Quoted and derived strips of one type, the asof vintage or the latest." + BROAD_QUERIES,
    )
    def get(self, request: Request) -> HttpResponseBase:
        return _v1_read(
            request, strips_read, scope="v1.strips", columns=V1_POINT_COLUMNS, filename="curves_strips.csv"
        )
