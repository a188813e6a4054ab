"""The OpenAPI pieces of the curve reads: the v2 reads' query parameters and example bodies, and the v1 rows
in their ``{meta, data}`` pages (the contract's CurvePoint and CurveDiffPoint)."""

from __future__ import annotations

from datetime import date

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, inline_serializer
from rest_framework import serializers

from apps.curves.api.params import DIMENSION_PARAMS, V2_DEFAULT_LIMIT, V2_MAX_LIMIT
from aurum.api.openapi import V1Meta, V1PageMeta, v1_envelope

FILTER_PARAMETERS = [
    OpenApiParameter(name, str, description=f"equality filter on {name}")
    for name in (*DIMENSION_PARAMS, "curve_key")
] + [
    OpenApiParameter("tenor_type", str, enum=["MONTHLY", "CALENDAR", "SEASON", "QUARTER"]),
    OpenApiParameter(
        "dataset", str, description="one dataset of the tenant's licence (e.g. vendor:RP); another gives none"
    ),
]
VINTAGE_PARAMETERS = [
    OpenApiParameter("asof", date, description="that vintage exactly"),
    OpenApiParameter("as_known_at", date, description="per tenor, the latest vintage on or before this date"),
]
PAGE_PARAMETERS = [
    OpenApiParameter("limit", int, description=f"1-{V2_MAX_LIMIT}, default {V2_DEFAULT_LIMIT}"),
    OpenApiParameter("cursor", str, description="meta.next_cursor / links.next of the previous page"),
]
POINT_EXAMPLE = {
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
LIST_EXAMPLE = OpenApiExample(
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
        "data": [POINT_EXAMPLE],
        "links": {"self": "https://…/api/v2/curves?limit=1", "next": "https://…&cursor=…", "prev": None},
    },
)


class CurvePointV1(serializers.Serializer):
    curve_key = serializers.CharField()
    tenor_label = serializers.CharField()
    tenor_type = serializers.CharField(allow_null=True)
    contract_month = serializers.DateField(allow_null=True)
    asof_date = serializers.DateField()
    mid = serializers.FloatField(allow_null=True)
    bid = serializers.FloatField(allow_null=True)
    ask = serializers.FloatField(allow_null=True)
    price_type = serializers.CharField(allow_null=True)


class CurveDiffPointV1(serializers.Serializer):
    curve_key = serializers.CharField()
    tenor_label = serializers.CharField()
    tenor_type = serializers.CharField(allow_null=True)
    contract_month = serializers.DateField(allow_null=True)
    asof_a = serializers.DateField()
    mid_a = serializers.FloatField(allow_null=True)
    asof_b = serializers.DateField()
    mid_b = serializers.FloatField(allow_null=True)
    diff_abs = serializers.FloatField(allow_null=True, help_text="mid_b - mid_a")
    diff_pct = serializers.FloatField(
        allow_null=True, help_text="diff_abs / mid_a (a fraction); null when mid_a is 0"
    )


def _v1_page(name: str, rows: serializers.Serializer) -> dict[tuple[int, str], object]:
    """A v1 page as JSON, or (``format=csv``) the same rows as CSV with the cursors in ``X-Next-Cursor`` /
    ``X-Prev-Cursor``."""
    return {
        (200, "application/json"): v1_envelope(name, rows, V1PageMeta()),
        (200, "text/csv"): OpenApiTypes.BINARY,
    }


V1_CURVES = _v1_page("CurveV1Response", CurvePointV1(many=True))  # points and strips alike
V1_CURVE_DIFF = _v1_page("CurveDiffV1Response", CurveDiffPointV1(many=True))


class DimensionValueCount(serializers.Serializer):
    value = serializers.CharField()
    count = serializers.IntegerField(help_text="curves with this value")


def dimensions_response_shape(name: str, dimensions: tuple[str, ...]) -> serializers.Serializer:
    """The component ``name``: ``{meta, data, counts}`` of ``/metadata/dimensions`` (``counts`` with
    ``include_counts`` only)."""
    values: dict[str, serializers.Field] = {
        dimension: serializers.ListField(child=serializers.CharField()) for dimension in dimensions
    }
    counts: dict[str, serializers.Field] = {
        dimension: DimensionValueCount(many=True) for dimension in dimensions
    }
    shape: serializers.Serializer = inline_serializer(
        name=name,
        fields={
            "meta": V1Meta(),
            "data": inline_serializer(name=f"{name}Data", fields=values),
            "counts": inline_serializer(name=f"{name}Counts", fields=counts, required=False),
        },
    )
    return shape
