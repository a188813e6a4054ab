"""``/metadata/dimensions`` (v1 and v2): the distinct values of each curve dimension among licensed curves,
with the number of curves having each; cached per licence."""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal

from django.http import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.curves import selectors
from apps.curves.api.params import curve_filters, iso_date, request_licence, validated
from apps.curves.api.reads import dims_of
from apps.curves.api.respond import METADATA_TTL
from apps.curves.api.schema import FILTER_PARAMETERS, dimensions_response_shape
from aurum.api.permissions import Requires
from aurum.api.read_cache import read_through
from aurum.api.responses import elapsed_ms, json_bytes_response, v2_meta

V1_DIMENSIONS = ("asset_class", "iso", "location", "market", "product", "block", "tenor_type")
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


class DimensionsQuery(serializers.Serializer):
    asof = serializers.DateField(required=False)
    per_dim_limit = serializers.IntegerField(min_value=1, max_value=500, default=500)
    prefix = serializers.CharField(max_length=100, required=False)
    include_counts = serializers.BooleanField(default=False)


def dimensions_response(request: Request, *, version: Literal["v1", "v2"]) -> HttpResponseBase:
    """Values (and, with ``include_counts``, counts) of the version's dimensions."""
    names = V1_DIMENSIONS if version == "v1" else V2_DIMENSIONS
    dims = dims_of(request)
    query = validated(DimensionsQuery, request)
    licence = request_licence(request)
    params = {**dims, **{k: iso_date(v) if isinstance(v, date) else v for k, v in query.items()}}

    def compute() -> dict[str, Any]:
        values = selectors.curve_dimension_values(
            filters=curve_filters(licence.datasets, dims),
            asof=query.get("asof"),
            prefix=query.get("prefix"),
            per_dim_limit=query["per_dim_limit"],
        )
        return {
            "data": {name: [value for value, _ in values[name]] for name in names},
            "counts": {name: [{"value": v, "count": n} for v, n in values[name]] for name in names},
        }

    payload, _ = read_through(
        scope=f"{version}.dimensions",
        tenant_id=licence.tenant.pk,
        datasets=licence.datasets,
        params=params,
        compute=compute,
        ttl=METADATA_TTL,
    )
    meta = {"query_time_ms": round(elapsed_ms(request))} if version == "v1" else v2_meta(request)
    return json_bytes_response(
        request,
        meta=meta,
        data=json.dumps(payload["data"], separators=(",", ":")).encode(),
        ttl=METADATA_TTL,
        extra={"counts": payload["counts"]} if query["include_counts"] else None,
    )


class DimensionsV1Api(APIView):
    """``GET /api/v1/metadata/dimensions``: distinct values of each curve dimension (licensed data only)."""

    permission_classes = [Requires("curves:read")]

    @extend_schema(
        operation_id="v1_metadata_dimensions",
        parameters=[DimensionsQuery, *FILTER_PARAMETERS],
        responses=dimensions_response_shape("DimensionsV1Response", V1_DIMENSIONS),
        description="Distinct values of each curve dimension among licensed curves; counts (include_counts) "
        "are numbers of curves.",
    )
    def get(self, request: Request) -> HttpResponseBase:
        return dimensions_response(request, version="v1")


class DimensionsApi(APIView):
    permission_classes = [Requires("curves:read")]

    @extend_schema(
        operation_id="metadata_dimensions",
        parameters=[
            OpenApiParameter("asof", date),
            OpenApiParameter("prefix", str, description="values starting with this (case-insensitive)"),
            OpenApiParameter("per_dim_limit", int, description="1-500, default 500"),
            OpenApiParameter("include_counts", bool),
            *FILTER_PARAMETERS,
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
        return dimensions_response(request, version="v2")
