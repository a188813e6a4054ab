"""Query parameters shared by the curve reads (v1 and v2): dimension filters, vintages; and the caller's
licence (the datasets its tenant may read)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.http import HttpRequest
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from aurum.api.context import request_context
from aurum.lakehouse import queries
from aurum.lakehouse.queries import CurveFilters
from tenants.models import Tenant
from tenants.selectors import tenant_datasets

TENOR_TYPES = ("MONTHLY", "CALENDAR", "SEASON", "QUARTER")
STRIP_TYPES = tuple(sorted(queries.STRIP_TYPES))
DIMENSION_PARAMS = ("asset_class", "iso", "region", "location", "market", "product", "block", "commodity")
V1_POINT_COLUMNS = (
    "curve_key",
    "tenor_label",
    "tenor_type",
    "contract_month",
    "asof_date",
    "mid",
    "bid",
    "ask",
    "price_type",
)
V2_POINT_COLUMNS = (
    *V1_POINT_COLUMNS,
    "currency",
    "per_unit",
    "units_raw",
    "commodity",
    "is_derived",
    "dataset",
)
MAX_DIFF_DAYS = 365
V2_DEFAULT_LIMIT = 100
V2_MAX_LIMIT = 1000


class DimensionFilters(serializers.Serializer):
    """Equality filters on the curve identity (and the catalog's commodity)."""

    curve_key = serializers.CharField(max_length=255, required=False)
    asset_class = serializers.CharField(max_length=64, required=False)
    iso = serializers.RegexField(
        r"^[A-Za-z]{1,32}$", required=False, error_messages={"invalid": "iso must be alphabetic."}
    )
    region = serializers.CharField(max_length=64, required=False)
    location = serializers.CharField(max_length=200, required=False)
    market = serializers.CharField(max_length=64, required=False)
    product = serializers.CharField(max_length=200, required=False)
    block = serializers.CharField(max_length=64, required=False)
    commodity = serializers.CharField(max_length=64, required=False)
    tenor_type = serializers.ChoiceField(choices=TENOR_TYPES, required=False)
    # One of the tenant's datasets (vendor:RP, feed:fred…): narrows the licence; another is simply empty.
    dataset = serializers.CharField(max_length=128, required=False)

    def validate_iso(self, value: str) -> str:
        return value.upper()


class Vintage(serializers.Serializer):
    asof = serializers.DateField(required=False, help_text="That vintage exactly (YYYY-MM-DD)")
    as_known_at = serializers.DateField(
        required=False, help_text="Per tenor, the latest vintage on or before this date"
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("asof") and attrs.get("as_known_at"):
            raise ValidationError({"as_known_at": "Give asof or as_known_at, not both."})
        return attrs


class TwoVintages(serializers.Serializer):
    asof_a = serializers.DateField()
    asof_b = serializers.DateField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        a, b = attrs["asof_a"], attrs["asof_b"]
        if a == b:
            raise ValidationError({"asof_b": "asof_a and asof_b must differ."})
        if abs((b - a).days) > MAX_DIFF_DAYS:
            raise ValidationError(
                {"asof_b": f"asof_a and asof_b must be at most {MAX_DIFF_DAYS} days apart."}
            )
        return attrs


# What each query serializer makes of no parameters at all (None: it refuses them). Serializers of query
# parameters read nothing but their input, so the answer is the same every time: a request without a query
# string (most one-curve reads) takes it instead of building the serializer's fields again (issue 14).
_EMPTY_QUERY: dict[type[serializers.Serializer], dict[str, Any] | None] = {}


def validated(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    if not request.query_params:
        if serializer_class not in _EMPTY_QUERY:
            serializer = serializer_class(data={})
            _EMPTY_QUERY[serializer_class] = (
                dict(serializer.validated_data) if serializer.is_valid() else None
            )
        empty = _EMPTY_QUERY[serializer_class]
        if empty is not None:
            return copy.deepcopy(empty)  # a default list or dict is the caller's own
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def dimension_values(data: dict[str, Any]) -> dict[str, Any]:
    """The given dimension filters (non-empty) by name."""
    names = (*DIMENSION_PARAMS, "tenor_type", "curve_key", "dataset")
    return {name: data[name] for name in names if data.get(name) not in (None, "")}


def curve_filters(
    datasets: frozenset[str],
    dims: dict[str, Any],
    *,
    limit: int | None = None,
    offset: int = 0,
    columns: tuple[str, ...] = (),
) -> CurveFilters:
    """``columns``: what the response serves (every column when empty), so the engine reads only those.
    A ``dataset`` filter narrows the licensed ``datasets`` to that one, or to none when it is not licensed."""
    curve_key = dims.get("curve_key")
    dataset = dims.get("dataset")
    return CurveFilters(
        datasets=tuple(sorted(datasets & {dataset} if dataset else datasets)),
        **{name: dims.get(name) for name in (*DIMENSION_PARAMS, "tenor_type")},
        curve_keys=(curve_key,) if curve_key else (),
        limit=limit,
        offset=offset,
        columns=columns,
    )


@dataclass(frozen=True)
class Licence:
    """The market datasets a tenant may read: its plan's and its entitlements'."""

    tenant: Tenant
    datasets: frozenset[str]


def request_licence(request: Request | HttpRequest) -> Licence:
    """The licence of the request's tenant (``request_context``; one query for the entitlements)."""
    tenant = request_context(request).tenant
    return Licence(tenant=tenant, datasets=tenant_datasets(tenant=tenant))


def iso_date(value: date | None) -> str | None:
    return value.isoformat() if value else None
