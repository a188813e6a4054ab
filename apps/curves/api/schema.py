"""The OpenAPI pieces the v2 curve reads share: query parameters and example bodies."""

from __future__ import annotations

from datetime import date

from drf_spectacular.utils import OpenApiExample, OpenApiParameter

from apps.curves.api.params import DIMENSION_PARAMS, V2_DEFAULT_LIMIT, V2_MAX_LIMIT

FILTER_PARAMETERS = [
    OpenApiParameter(name, str, description=f"equality filter on {name}")
    for name in (*DIMENSION_PARAMS, "curve_key")
] + [OpenApiParameter("tenor_type", str, enum=["MONTHLY", "CALENDAR", "SEASON", "QUARTER"])]
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
