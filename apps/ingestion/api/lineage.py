"""``/api/v2/curves/{curve_key}/lineage``: where one number came from."""

from datetime import date

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.curves.selectors import curve_get_for_tenant
from apps.ingestion.api.schema import LINEAGE
from apps.ingestion.selectors import curve_point_lineage
from aurum.api.context import request_context
from aurum.api.permissions import Requires
from aurum.api.responses import object_response


class LineageQuery(serializers.Serializer):
    tenor_label = serializers.CharField(max_length=64)
    asof = serializers.DateField(
        required=False, help_text="The vintage; the curve's latest as-of when absent"
    )


class CurveLineageApi(APIView):
    """``/api/v2/curves/{curve_key}/lineage``: explain one number."""

    permission_classes = [Requires("curves:read")]

    @extend_schema(
        parameters=[
            OpenApiParameter("tenor_label", str, required=True, description="e.g. 2025-09 or Calendar 2026"),
            OpenApiParameter("asof", date, required=False),
        ],
        responses=LINEAGE,
        description=(
            "Where a price point came from: source workbook and sha256, the sheet and cell (A1 reference, "
            "e.g. `C12`) the mid was read from, the sheet and cell of its `bid / ask` quote (`bid_ask`, null "
            "when the vendor quotes none), version hash, the ingest run and Iceberg snapshot that wrote it, "
            "and the quality rules it passed. `cell` is null when the mid cell was blank and the mid is the "
            "average of bid and ask, for strips derived from monthly points, and for points ingested before "
            "Aurum recorded cells. 404 for curves outside the tenant's licensed datasets."
        ),
        examples=[
            OpenApiExample(
                "Fixed price point",
                value={
                    "data": {
                        "point": {
                            "tenor_label": "2025-09",
                            "mid": 31.705933683875706,
                            "bid": 31.603,
                            "ask": 31.809,
                        },
                        "source": {
                            "file_name": "EOD_EUGP_20250912_1430.xlsx",
                            "sheet_name": "Fixed Prices - Mid",
                            "cell": "C12",
                            "bid_ask": {"sheet_name": "Fixed Prices - BidAsk", "cell": "C12"},
                        },
                        "quality_rules_passed": ["ask_ge_bid"],
                    }
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request, curve_key: str) -> Response:
        query = LineageQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        curve = curve_get_for_tenant(tenant=request_context(request).tenant, curve_key=curve_key)
        asof = query.validated_data.get("asof") or curve.last_asof
        lineage = curve_point_lineage(curve=curve, tenor_label=query.validated_data["tenor_label"], asof=asof)
        return object_response(request, lineage)
