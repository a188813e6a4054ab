"""v2 curve reads: cursor-only paging with ``links`` and a ``Link`` header, RFC 7807 errors, richer rows
(currency, units, commodity, derived flag, dataset), one-curve detail and history, movers, exports."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from django.conf import settings
from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.curves import selectors
from apps.curves.api.params import (
    DIMENSION_PARAMS,
    STRIP_TYPES,
    V2_POINT_COLUMNS,
    Caller,
    TwoVintages,
    Vintage,
    caller,
    curve_filters,
    iso_date,
    validated,
)
from apps.curves.api.reads import PagedRead, diff_read, dims_of, points_read, strips_read
from apps.curves.api.respond import (
    CURVES_TTL,
    Page,
    cached_page,
    elapsed_ms,
    json_page_response,
    page_of,
)
from apps.curves.api.v1 import dimensions_response
from apps.curves.models import Curve
from aurum.api.arrow import arrow_csv_chunks, arrow_json, arrow_parquet, arrow_xlsx
from aurum.api.conditional import cache_control
from aurum.api.cursors import v2_cursor_decode, v2_cursor_encode
from aurum.api.envelope import page_url
from aurum.api.permissions import Requires
from aurum.lakehouse.queries import DIFF_COLUMNS, HISTORY_COLUMNS, MOVER_RANKINGS

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
EXPORT_COLUMNS = (*V2_POINT_COLUMNS, "source_file", "version_hash")
EXPORT_TTL = 300
CATALOG_FIELDS = (
    "curve_key",
    "dataset",
    "vendor",
    "asset_class",
    "iso",
    "region",
    "location",
    "market",
    "product",
    "block",
    "spark_location",
    "commodity",
    "unit_note",
    "vendor_region",
    "units_raw",
    "currency",
    "per_unit",
    "sheet_names",
    "first_asof",
    "last_asof",
    "tenor_count",
)

_FILTER_PARAMETERS = [
    OpenApiParameter(name, str, description=f"equality filter on {name}")
    for name in (*DIMENSION_PARAMS, "curve_key")
] + [OpenApiParameter("tenor_type", str, enum=["MONTHLY", "CALENDAR", "SEASON", "QUARTER"])]
_VINTAGE_PARAMETERS = [
    OpenApiParameter("asof", date, description="that vintage exactly"),
    OpenApiParameter("as_known_at", date, description="per tenor, the latest vintage on or before this date"),
]
_PAGE_PARAMETERS = [
    OpenApiParameter("limit", int, description=f"1-{MAX_LIMIT}, default {DEFAULT_LIMIT}"),
    OpenApiParameter("cursor", str, description="meta.next_cursor / links.next of the previous page"),
]
_POINT_EXAMPLE = {
    "curve_key": "3f0c…",
    "tenor_label": "2025-09",
    "tenor_type": "MONTHLY",
    "contract_month": "2025-09-01",
    "asof_date": "2025-07-03",
    "mid": 84.25,
    "bid": 84.0,
    "ask": 84.5,
    "price_type": "MID",
    "currency": "EUR",
    "per_unit": "MWh",
    "units_raw": "EUR/MWh",
    "commodity": "power",
    "is_derived": False,
    "dataset": "vendor:EUGP",
}
_LIST_EXAMPLE = OpenApiExample(
    "A page",
    response_only=True,
    value={
        "meta": {
            "request_id": "6f1c…",
            "query_time_ms": 31,
            "processing_time_ms": 31.4,
            "returned_count": 1,
            "tenant_id": "acme",
            "version": "v2",
            "has_more": True,
            "limit": 1,
            "next_cursor": "eyJvZmZzZXQiOjEs…",
        },
        "data": [_POINT_EXAMPLE],
        "links": {"self": "https://…/api/v2/curves?limit=1", "next": "https://…&cursor=…", "prev": None},
    },
)


class V2Paging(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT)
    cursor = serializers.CharField(required=False, max_length=1000)


def _paged_v2(
    request: Request,
    parse: Callable[[Request, Caller], PagedRead],
    *,
    scope: str,
    columns: tuple[str, ...],
) -> HttpResponseBase:
    started = time.perf_counter()
    who = caller(request)
    read = parse(request, who)
    bound = read.bound
    paging = validated(V2Paging, request)
    limit, offset = paging["limit"], 0
    if paging.get("cursor"):
        offset = v2_cursor_decode(paging["cursor"], filters=bound).offset

    def compute() -> Page:
        return page_of(read.fetch(limit + 1, offset), columns, limit)

    page = cached_page(
        scope=scope, who=who, params={**bound, "offset": offset, "limit": limit}, compute=compute
    )
    next_cursor = (
        v2_cursor_encode(offset=offset + limit, limit=limit, filters=bound) if page.has_more else None
    )
    prev_cursor = (
        v2_cursor_encode(offset=max(0, offset - limit), limit=limit, filters=bound) if offset > 0 else None
    )
    links = {
        "self": request.build_absolute_uri(),
        "next": page_url(request, cursor=next_cursor),
        "prev": page_url(request, cursor=prev_cursor),
    }
    meta = _v2_meta(who, started, count=page.count, has_more=page.has_more, limit=limit)
    if next_cursor:
        meta["next_cursor"] = next_cursor
    if prev_cursor:
        meta["prev_cursor"] = prev_cursor
    return json_page_response(request, meta=meta, data=page.body, ttl=CURVES_TTL, links=links)


def _v2_meta(who: Caller, started: float, **extra: Any) -> dict[str, Any]:
    took = elapsed_ms(started)
    meta: dict[str, Any] = {
        "query_time_ms": round(took),
        "processing_time_ms": round(took, 3),
        "tenant_id": who.tenant.schema_name,
        "version": "v2",
    }
    if "count" in extra:
        meta["returned_count"] = extra.pop("count")
    meta.update(extra)
    return meta


class CurvesApi(APIView):
    permission_classes = [Requires("curves:read")]

    @extend_schema(
        operation_id="curves_list",
        parameters=[*_FILTER_PARAMETERS, *_VINTAGE_PARAMETERS, *_PAGE_PARAMETERS],
        responses={200: OpenApiTypes.OBJECT},
        examples=[_LIST_EXAMPLE],
        description=(
            "Curve observations in keyset order (curve_key, tenor_label, contract_month, asof_date, "
            "price_type). Without `asof`/`as_known_at`: the latest row per (curve_key, tenor_label). "
            "Only the tenant's licensed datasets are visible. Cursor paging only; `links` and the `Link` "
            "header carry the next/previous page. ETag/If-None-Match → 304."
        ),
    )
    def get(self, request: Request) -> HttpResponseBase:
        return _paged_v2(request, points_read, scope="v2.curves", columns=V2_POINT_COLUMNS)


def _catalog_entry(curve: Curve) -> dict[str, Any]:
    entry = {name: getattr(curve, name) for name in CATALOG_FIELDS}
    entry["first_asof"] = curve.first_asof.isoformat()
    entry["last_asof"] = curve.last_asof.isoformat()
    return entry


class CurveDetailApi(APIView):
    permission_classes = [Requires("curves:read")]

    @extend_schema(
        operation_id="curves_detail",
        parameters=_VINTAGE_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT},
        examples=[
            OpenApiExample(
                "A curve",
                response_only=True,
                value={
                    "meta": {"request_id": "…", "query_time_ms": 12, "returned_count": 1, "version": "v2"},
                    "data": {
                        "curve": {"curve_key": "3f0c…", "dataset": "vendor:EUGP", "location": "Germany"},
                        "points": [_POINT_EXAMPLE],
                    },
                },
            )
        ],
        description=(
            "The catalog entry of one curve and its whole curve (every tenor): the latest vintage of each "
            "tenor, or `asof` / `as_known_at`. 404 for a curve outside the tenant's licensed datasets."
        ),
    )
    def get(self, request: Request, curve_key: str) -> HttpResponseBase:
        started = time.perf_counter()
        vintage = validated(Vintage, request)
        who = caller(request)
        dataset = selectors.curve_dataset_for_tenant(curve_key=curve_key, datasets=who.datasets)
        asof, known = vintage.get("asof"), vintage.get("as_known_at")

        def compute() -> Page:
            curve = selectors.curve_get_for_tenant(
                tenant=who.tenant, curve_key=curve_key, datasets=who.datasets
            )
            filters = curve_filters(frozenset({curve.dataset}), {"curve_key": curve.curve_key})
            result = selectors.curve_points(filters=filters, asof=asof, as_known_at=known)
            points = arrow_json(result.table, V2_POINT_COLUMNS)
            body = b'{"curve":' + json.dumps(_catalog_entry(curve)).encode() + b',"points":' + points + b"}"
            return Page(body=body, count=result.table.num_rows, has_more=False)

        page = cached_page(
            scope="v2.curve",
            who=who,
            params={"curve_key": curve_key, "asof": iso_date(asof), "as_known_at": iso_date(known)},
            compute=compute,
            versioned=frozenset({dataset}),
        )
        meta = _v2_meta(who, started, count=page.count)
        return json_page_response(request, meta=meta, data=page.body, ttl=CURVES_TTL)


class HistoryQuery(serializers.Serializer):
    tenor_label = serializers.CharField(max_length=100)


class CurveHistoryApi(APIView):
    permission_classes = [Requires("curves:read")]

    @extend_schema(
        operation_id="curves_history",
        parameters=[OpenApiParameter("tenor_label", str, required=True, description="e.g. 2025-09")],
        responses={200: OpenApiTypes.OBJECT},
        examples=[
            OpenApiExample(
                "One tenor across vintages",
                response_only=True,
                value={
                    "meta": {"returned_count": 2, "version": "v2"},
                    "data": [
                        {"tenor_label": "2025-09", "asof_date": "2025-07-01", "mid": 83.9},
                        {"tenor_label": "2025-09", "asof_date": "2025-07-02", "mid": 84.25},
                    ],
                },
            )
        ],
        description="One tenor's mark across every vintage, oldest first. 404 outside licensed datasets.",
    )
    def get(self, request: Request, curve_key: str) -> HttpResponseBase:
        started = time.perf_counter()
        query = validated(HistoryQuery, request)
        who = caller(request)
        curve = selectors.curve_get_for_tenant(tenant=who.tenant, curve_key=curve_key, datasets=who.datasets)
        tenor = query["tenor_label"]

        def compute() -> Page:
            result = selectors.curve_tenor_history(
                curve=curve, tenor_label=tenor, datasets=frozenset({curve.dataset})
            )
            return Page(
                body=arrow_json(result.table, HISTORY_COLUMNS), count=result.table.num_rows, has_more=False
            )

        page = cached_page(
            scope="v2.history",
            who=who,
            params={"curve_key": curve.curve_key, "tenor_label": tenor},
            compute=compute,
            versioned=frozenset({curve.dataset}),
        )
        return json_page_response(
            request, meta=_v2_meta(who, started, count=page.count), data=page.body, ttl=CURVES_TTL
        )


class CurveDiffApi(APIView):
    permission_classes = [Requires("curves:read")]

    @extend_schema(
        operation_id="curves_diff",
        parameters=[
            OpenApiParameter("asof_a", date, required=True),
            OpenApiParameter("asof_b", date, required=True),
            *_FILTER_PARAMETERS,
            *_PAGE_PARAMETERS,
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
            *_FILTER_PARAMETERS,
            *_PAGE_PARAMETERS,
        ],
        responses={200: OpenApiTypes.OBJECT},
        examples=[_LIST_EXAMPLE],
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
            *_FILTER_PARAMETERS,
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
        started = time.perf_counter()
        query = validated(MoversQuery, request)
        dims = dims_of(request)
        who = caller(request)
        params = {
            **dims,
            "asof_a": query["asof_a"].isoformat(),
            "asof_b": query["asof_b"].isoformat(),
            "top": query["top"],
            "by": query["by"],
        }

        def compute() -> Page:
            result = selectors.curve_movers(
                filters=curve_filters(who.datasets, dims),
                asof_a=query["asof_a"],
                asof_b=query["asof_b"],
                top=query["top"],
                by=query["by"],
            )
            return Page(
                body=arrow_json(result.table, DIFF_COLUMNS), count=result.table.num_rows, has_more=False
            )

        page = cached_page(scope="v2.movers", who=who, params=params, compute=compute)
        return json_page_response(
            request, meta=_v2_meta(who, started, count=page.count), data=page.body, ttl=CURVES_TTL
        )


class ExportQuery(Vintage):
    format = serializers.ChoiceField(choices=("csv", "parquet", "xlsx"), default="csv")
    start = serializers.DateField(required=False, help_text="with `end`: every vintage in the range")
    end = serializers.DateField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        ranged = attrs.get("start") or attrs.get("end")
        if ranged and not (attrs.get("start") and attrs.get("end")):
            raise ValidationError({"end": "Give both start and end for a range."})
        if ranged and (attrs.get("asof") or attrs.get("as_known_at")):
            raise ValidationError({"start": "A range excludes asof and as_known_at."})
        if ranged and attrs["end"] < attrs["start"]:
            raise ValidationError({"end": "end must not be before start."})
        return attrs


_CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class CurveExportApi(APIView):
    permission_classes = [Requires("curves:read")]

    @extend_schema(
        operation_id="curves_export",
        parameters=[
            OpenApiParameter("format", str, enum=["csv", "parquet", "xlsx"]),
            *_VINTAGE_PARAMETERS,
            OpenApiParameter("start", date, description="first vintage of a range (with end)"),
            OpenApiParameter("end", date, description="last vintage of a range (with start)"),
            *_FILTER_PARAMETERS,
        ],
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
        description=(
            "A file of observations: latest (default), `asof`, `as_known_at`, or every vintage from "
            "`start` to `end`. CSV is streamed in 10,000-row chunks; Parquet (zstd) and XLSX are sent "
            "whole. At most AURUM_EXPORT_MAX_ROWS rows (1,000,000 by default; XLSX 1,048,575): larger "
            "exports are refused with 400 — narrow the filters or the range."
        ),
    )
    def get(self, request: Request) -> HttpResponseBase:
        query = validated(ExportQuery, request)
        dims = dims_of(request)
        who = caller(request)
        cap: int = settings.AURUM_EXPORT_MAX_ROWS
        filters = curve_filters(who.datasets, dims, limit=cap + 1)
        if query.get("start"):
            result = selectors.curve_range_points(filters=filters, start=query["start"], end=query["end"])
            label = f"{query['start']:%Y%m%d}_{query['end']:%Y%m%d}"
        else:
            result = selectors.curve_points(
                filters=filters, asof=query.get("asof"), as_known_at=query.get("as_known_at")
            )
            label = (query.get("asof") or query.get("as_known_at") or "latest").__str__().replace("-", "")
        table = result.table
        if table.num_rows > cap:
            raise ValidationError(
                {"detail": f"The export exceeds {cap:,} rows; narrow the filters or the range."}
            )
        fmt: str = query["format"]
        headers = {
            "Content-Disposition": f'attachment; filename="curve_export_{label}.{fmt}"',
            "Cache-Control": cache_control(EXPORT_TTL),
            "X-Row-Count": str(table.num_rows),
        }
        if fmt == "csv":
            return StreamingHttpResponse(
                arrow_csv_chunks(table, EXPORT_COLUMNS), content_type=_CONTENT_TYPES[fmt], headers=headers
            )
        if fmt == "xlsx":
            try:
                content = arrow_xlsx(table, EXPORT_COLUMNS)
            except ValueError as exc:
                raise ValidationError({"format": str(exc)}) from exc
        else:
            content = arrow_parquet(table, EXPORT_COLUMNS)
        return HttpResponse(content, content_type=_CONTENT_TYPES[fmt], headers=headers)


V2_DIMENSIONS = (
    "asset_class",
    "iso",
    "region",
    "location",
    "market",
    "product",
    "block",
    "tenor_type",
    "commodity",
)


class DimensionsApi(APIView):
    permission_classes = [Requires("curves:read")]

    @extend_schema(
        operation_id="metadata_dimensions",
        parameters=[
            OpenApiParameter("asof", date),
            OpenApiParameter("prefix", str, description="values starting with this (case-insensitive)"),
            OpenApiParameter("per_dim_limit", int, description="1-500, default 500"),
            OpenApiParameter("include_counts", bool),
            *_FILTER_PARAMETERS,
        ],
        responses={200: OpenApiTypes.OBJECT},
        examples=[
            OpenApiExample(
                "Dimensions",
                response_only=True,
                value={
                    "data": {"iso": ["EU"], "commodity": ["power", "gas"]},
                    "counts": {"iso": [{"value": "EU", "count": 120}]},
                },
            )
        ],
        description=(
            "Distinct values of each curve dimension among licensed curves; counts are numbers of curves."
        ),
    )
    def get(self, request: Request) -> HttpResponseBase:
        return dimensions_response(request, scope="v2.dimensions", names=V2_DIMENSIONS, meta=_v2_meta)
