"""``GET /api/v2/usage``: the tenant's usage per day and credential, and where it stands against each
monthly quota of its plan. Needs ``usage:read`` (admins)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.usage.api.serializers import UsageOutput, UsageQueryInput
from apps.usage.selectors import usage_report
from aurum.api.context import request_context
from aurum.api.envelope import envelope
from aurum.api.responses import elapsed_ms
from aurum.api.views import PermissionByMethodView

USAGE_READ = "usage:read"
USAGE_EXAMPLE = {
    "from": "2026-01-01",
    "to": "2026-01-07",
    "days": [
        {
            "day": "2026-01-06",
            "credential": "token:12",
            "api_requests": 1840,
            "rows_served": 92000,
            "scenario_runs": 3,
            "export_rows": 0,
        }
    ],
    "quotas": [
        {
            "metric": "api_requests",
            "limit": 100000,
            "used": 1841,
            "remaining": 98159,
            "resets_at": "2026-02-01T00:00:00Z",
        }
    ],
}


class UsageV2Api(PermissionByMethodView):
    needs = {"GET": USAGE_READ}

    @extend_schema(
        operation_id="usage_retrieve",
        parameters=[
            OpenApiParameter("from", str, description="first day (YYYY-MM-DD, UTC); default the 1st"),
            OpenApiParameter("to", str, description="last day, inclusive; default today; at most 366 days"),
        ],
        responses=UsageOutput,
        description="Usage counted per day (UTC) and credential (`token:<id>`, `session:<membership id>`, "
        "`system`) for each metric — `api_requests`, `rows_served`, `scenario_runs`, `export_rows` — and per "
        "metric this month's quota (`limit`, null when unlimited), `used`, `remaining` and `resets_at`. "
        "Exact: counts not yet flushed to the database are included. Needs `usage:read`.",
        examples=[OpenApiExample("A week", value={"data": USAGE_EXAMPLE}, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        now = timezone.now()
        query = UsageQueryInput(data=request.query_params, context={"today": now.date()})
        query.is_valid(raise_exception=True)
        report = usage_report(
            tenant=request_context(request).tenant,
            start=query.validated_data["start"],
            end=query.validated_data["end"],
            now=now,
        )
        # No ETag: the report counts the very request asking for it, so no two answers are the same.
        body = envelope(UsageOutput(report).data, query_time_ms=elapsed_ms(request))
        return Response(body, headers={"Cache-Control": "private, no-store"})
