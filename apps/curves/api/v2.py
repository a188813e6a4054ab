"""v2 curve reads that page or rank: ``/api/v2/curves``, ``/curves/diff``, ``/curves/strips`` (cursor-only
paging with ``links`` and a ``Link`` header) and ``/curves/movers``. Rows are richer than v1's (currency,
units, commodity, derived flag, dataset); errors are RFC 7807 problems."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.http import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.curves import selectors
from apps.curves.api.params import (
    STRIP_TYPES,
    V2_DEFAULT_LIMIT,
    V2_MAX_LIMIT,
    V2_POINT_COLUMNS,
    Licence,
    TwoVintages,
    curve_filters,
    request_licence,
    validated,
)
from apps.curves.api.reads import PagedRead, diff_read, dims_of, points_read, strips_read
from apps.curves.api.respond import CURVES_TTL, Page, cached_page, page_of
from apps.curves.api.schema import (
    FILTER_PARAMETERS,
    LIST_EXAMPLE,
    PAGE_PARAMETERS,
    VINTAGE_PARAMETERS,
)
from aurum.api.arrow import arrow_json
from aurum.api.paging import v2_page_request
from aurum.api.permissions import Requires
from aurum.api.responses import json_bytes_response, v2_bytes_list_response, v2_meta
from aurum.lakehouse.queries import DIFF_COLUMNS, MOVER_RANKINGS


def _paged_v2(
    request: Request,
    parse: Callable[[Request, Licence], PagedRead],
    *,
    scope: str,
    columns: tuple[str, ...],
) -> HttpResponseBase:
    """One cached page of a paged read; cursors are bound to the read's filters."""
    licence = request_licence(request)
    read = parse(request, licence)
    page = v2_page_request(request, filters=read.bound, default=V2_DEFAULT_LIMIT, maximum=V2_MAX_LIMIT)

    def compute() -> Page:
        return page_of(read.fetch(page.limit + 1, page.offset), columns, page.limit)

    params = {**read.bound, "offset": page.offset, "limit": page.limit}
    computed = cached_page(request=request, scope=scope, licence=licence, params=params, compute=compute)
    return v2_bytes_list_response(
        request,
        computed.body,
        returned=computed.count,
        page=page,
        has_more=computed.has_more,
        filters=read.bound,
        ttl=CURVES_TTL,
    )


class CurvesApi(APIView):
    permission_classes = [Requires("curves:read")]

    @extend_schema(
        operation_id="curves_list",
        parameters=[*FILTER_PARAMETERS, *VINTAGE_PARAMETERS, *PAGE_PARAMETERS],
        responses={200: OpenApiTypes.OBJECT},
        examples=[LIST_EXAMPLE],
        description=(
            "Curve observations in keyset order (curve_key, tenor_label, contract_month, asof_date, "
            "price_type). Without `asof`/`as_known_at`: the latest row per (curve_key, tenor_label). "
            "Only the tenant's licensed datasets are visible. Cursor paging only; `links` and the `Link` "
            "header carry the next/previous page. ETag/If-None-Match → 304."
        ),
    )
    def get(self, request: Request) -> HttpResponseBase:
        return _paged_v2(request, points_read, scope="v2.curves", columns=V2_POINT_COLUMNS)


class CurveDiffApi(APIView):
    permission_classes = [Requires("curves:read")]

    @extend_schema(
        operation_id="curves_diff",
        parameters=[
            OpenApiParameter("asof_a", date, required=True),
            OpenApiParameter("asof_b", date, required=True),
            *FILTER_PARAMETERS,
            *PAGE_PARAMETERS,
        ],
        responses={200: OpenApiTypes.OBJECT},
        examples=[
            OpenApiExample(
                "A move",
                response_only=True,
                value={
                    "data": [
                        {
                            "curve_key": "3f0c…",
                            "tenor_label": "2025-09",
                            "asof_a": "2025-07-01",
                            "mid_a": 80.0,
                            "asof_b": "2025-07-02",
                            "mid_b": 84.0,
                            "diff_abs": 4.0,
                            "diff_pct": 0.05,
                        }
                    ]
                },
            )
        ],
        description=(
            "Two vintages joined on (curve_key, tenor_label): diff_abs = mid_b − mid_a, "
            "diff_pct = diff_abs / mid_a (a fraction; null when mid_a is 0 or missing). "
            "At least one filter; at most 365 days apart."
        ),
    )
    def get(self, request: Request) -> HttpResponseBase:
        return _paged_v2(request, diff_read, scope="v2.diff", columns=DIFF_COLUMNS)


class CurveStripsApi(APIView):
    permission_classes = [Requires("curves:read")]

    @extend_schema(
        operation_id="curves_strips",
        parameters=[
            OpenApiParameter("type", str, required=True, enum=list(STRIP_TYPES)),
            OpenApiParameter("asof", date),
            *FILTER_PARAMETERS,
            *PAGE_PARAMETERS,
        ],
        responses={200: OpenApiTypes.OBJECT},
        examples=[LIST_EXAMPLE],
        description="Strip rows (vendor-quoted and derived from complete monthly periods, `is_derived`).",
    )
    def get(self, request: Request) -> HttpResponseBase:
        return _paged_v2(request, strips_read, scope="v2.strips", columns=V2_POINT_COLUMNS)


class MoversQuery(TwoVintages):
    top = serializers.IntegerField(min_value=1, max_value=500, default=20)
    by = serializers.ChoiceField(choices=MOVER_RANKINGS, default="abs")


class CurveMoversApi(APIView):
    permission_classes = [Requires("curves:read")]

    @extend_schema(
        operation_id="curves_movers",
        parameters=[
            OpenApiParameter("asof_a", date, required=True),
            OpenApiParameter("asof_b", date, required=True),
            OpenApiParameter("top", int, description="1-500, default 20"),
            OpenApiParameter(
                "by", str, enum=list(MOVER_RANKINGS), description="rank by |diff_abs| or |diff_pct|"
            ),
            *FILTER_PARAMETERS,
        ],
        responses={200: OpenApiTypes.OBJECT},
        examples=[
            OpenApiExample(
                "Biggest moves",
                response_only=True,
                value={
                    "data": [
                        {"curve_key": "3f0c…", "tenor_label": "2026-01", "diff_abs": -7.5, "diff_pct": -0.06}
                    ]
                },
            )
        ],
        description="The largest (curve, tenor) moves between two vintages across every licensed curve.",
    )
    def get(self, request: Request) -> HttpResponseBase:
        query = validated(MoversQuery, request)
        dims = dims_of(request)
        licence = request_licence(request)
        params = {
            **dims,
            "asof_a": query["asof_a"].isoformat(),
            "asof_b": query["asof_b"].isoformat(),
            "top": query["top"],
            "by": query["by"],
        }

        def compute() -> Page:
            result = selectors.curve_movers(
                filters=curve_filters(licence.datasets, dims),
                asof_a=query["asof_a"],
                asof_b=query["asof_b"],
                top=query["top"],
                by=query["by"],
            )
            return Page(
                body=arrow_json(result.table, DIFF_COLUMNS), count=result.table.num_rows, has_more=False
            )

        page = cached_page(
            request=request, scope="v2.movers", licence=licence, params=params, compute=compute
        )
        meta = v2_meta(request, returned_count=page.count)
        return json_bytes_response(request, meta=meta, data=page.body, ttl=CURVES_TTL)
