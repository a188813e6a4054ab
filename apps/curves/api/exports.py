"""``/api/v2/curves/export``: a file of observations (CSV streamed; Parquet and XLSX whole)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.curves import selectors
from apps.curves.api.params import V2_POINT_COLUMNS, Vintage, curve_filters, request_licence, validated
from apps.curves.api.reads import dims_of
from apps.curves.api.schema import FILTER_PARAMETERS, VINTAGE_PARAMETERS
from apps.usage.models import Metric
from apps.usage.quotas import usage_credential
from apps.usage.services import usage_take
from aurum.api.arrow import arrow_csv_chunks, arrow_parquet, arrow_xlsx
from aurum.api.conditional import cache_control
from aurum.api.context import request_context
from aurum.api.permissions import Requires
from aurum.errors import InvalidInputError

EXPORT_COLUMNS = (*V2_POINT_COLUMNS, "source_file", "version_hash")
EXPORT_TTL = 300


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


CONTENT_TYPES = {
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
            *VINTAGE_PARAMETERS,
            OpenApiParameter("start", date, description="first vintage of a range (with end)"),
            OpenApiParameter("end", date, description="last vintage of a range (with start)"),
            *FILTER_PARAMETERS,
        ],
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
        description=(
            "A file of observations: latest (default), `asof`, `as_known_at`, or every vintage from "
            "`start` to `end`. CSV is streamed in 10,000-row chunks; Parquet (zstd) and XLSX are sent "
            "whole. At most AURUM_EXPORT_MAX_ROWS rows (1,000,000 by default; XLSX 1,048,575): larger "
            "exports are refused with 400 — narrow the filters or the range. The file's rows count against "
            "the plan's monthly `export_rows` quota: an export that would go beyond it is refused with a "
            "429 problem naming the quota."
        ),
    )
    def get(self, request: Request) -> HttpResponseBase:
        query = validated(ExportQuery, request)
        dims = dims_of(request)
        licence = request_licence(request)
        table = selectors.curve_export_points(
            filters=curve_filters(licence.datasets, dims),
            asof=query.get("asof"),
            as_known_at=query.get("as_known_at"),
            start=query.get("start"),
            end=query.get("end"),
            max_rows=settings.AURUM_EXPORT_MAX_ROWS,
        ).table
        context = request_context(request)
        usage_take(
            tenant=context.tenant,
            credential=usage_credential(context),
            metric=Metric.EXPORT_ROWS,
            amount=table.num_rows,
        )
        if query.get("start"):
            label = f"{query['start']:%Y%m%d}_{query['end']:%Y%m%d}"
        else:
            label = str(query.get("asof") or query.get("as_known_at") or "latest").replace("-", "")
        fmt: str = query["format"]
        headers = {
            "Content-Disposition": f'attachment; filename="curve_export_{label}.{fmt}"',
            "Cache-Control": cache_control(EXPORT_TTL),
            "X-Row-Count": str(table.num_rows),
        }
        if fmt == "csv":
            return StreamingHttpResponse(
                arrow_csv_chunks(table, EXPORT_COLUMNS), content_type=CONTENT_TYPES[fmt], headers=headers
            )
        if fmt == "xlsx":
            try:
                content = arrow_xlsx(table, EXPORT_COLUMNS)
            except ValueError as exc:  # more rows than a sheet holds
                raise InvalidInputError.field("format", str(exc)) from exc
        else:
            content = arrow_parquet(table, EXPORT_COLUMNS)
        return HttpResponse(content, content_type=CONTENT_TYPES[fmt], headers=headers)
