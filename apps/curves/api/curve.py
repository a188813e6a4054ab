"""v2 reads of one curve: ``/api/v2/curves/{curve_key}`` (its catalog entry and every tenor) and
``/curves/{curve_key}/history`` (one tenor across vintages). A curve outside the tenant's licence is 404."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.curves import selectors
from apps.curves.api.params import (
    V2_POINT_COLUMNS,
    Vintage,
    curve_filters,
    iso_date,
    request_licence,
    validated,
)
from apps.curves.api.respond import CURVES_TTL, Page, cached_page
from apps.curves.api.schema import POINT_EXAMPLE, VINTAGE_PARAMETERS
from apps.curves.models import Curve
from aurum.api.arrow import arrow_json
from aurum.api.permissions import Requires
from aurum.api.responses import json_bytes_response, v2_meta
from aurum.lakehouse.queries import HISTORY_COLUMNS

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


def _catalog_entry(curve: Curve) -> dict[str, Any]:
    entry = {name: getattr(curve, name) for name in CATALOG_FIELDS}
    entry["first_asof"] = curve.first_asof.isoformat()
    entry["last_asof"] = curve.last_asof.isoformat()
    return entry


class CurveDetailApi(APIView):
    permission_classes = [Requires("curves:read")]

    @extend_schema(
        operation_id="curves_detail",
        parameters=VINTAGE_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT},
        examples=[
            OpenApiExample(
                "A curve",
                response_only=True,
                value={
                    "meta": {"request_id": "…", "query_time_ms": 12, "returned_count": 1, "version": "v2"},
                    "data": {
                        "curve": {"curve_key": "3f0c…", "dataset": "vendor:EUGP", "location": "Germany"},
                        "points": [POINT_EXAMPLE],
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
        vintage = validated(Vintage, request)
        licence = request_licence(request)
        dataset = selectors.curve_dataset_for_tenant(curve_key=curve_key, datasets=licence.datasets)
        asof, known = vintage.get("asof"), vintage.get("as_known_at")

        def compute() -> Page:
            filters = curve_filters(frozenset({dataset}), {"curve_key": curve_key}, columns=V2_POINT_COLUMNS)
            curve, result = selectors.curve_with_points(
                curve_key=curve_key, datasets=licence.datasets, filters=filters, asof=asof, as_known_at=known
            )
            points = arrow_json(result.table, V2_POINT_COLUMNS)
            body = b'{"curve":' + json.dumps(_catalog_entry(curve)).encode() + b',"points":' + points + b"}"
            return Page(body=body, count=result.table.num_rows, has_more=False)

        page = cached_page(
            request=request,
            scope="v2.curve",
            licence=licence,
            params={"curve_key": curve_key, "asof": iso_date(asof), "as_known_at": iso_date(known)},
            compute=compute,
            versioned=frozenset({dataset}),
        )
        meta = v2_meta(request, returned_count=page.count)
        return json_bytes_response(request, meta=meta, data=page.body, ttl=CURVES_TTL)


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
        query = validated(HistoryQuery, request)
        licence = request_licence(request)
        curve = selectors.curve_get_for_tenant(
            tenant=licence.tenant, curve_key=curve_key, datasets=licence.datasets
        )
        tenor = query["tenor_label"]

        def compute() -> Page:
            result = selectors.curve_tenor_history(
                curve=curve, tenor_label=tenor, datasets=frozenset({curve.dataset})
            )
            return Page(
                body=arrow_json(result.table, HISTORY_COLUMNS), count=result.table.num_rows, has_more=False
            )

        page = cached_page(
            request=request,
            scope="v2.history",
            licence=licence,
            params={"curve_key": curve.curve_key, "tenor_label": tenor},
            compute=compute,
            versioned=frozenset({curve.dataset}),
        )
        meta = v2_meta(request, returned_count=page.count)
        return json_bytes_response(request, meta=meta, data=page.body, ttl=CURVES_TTL)
