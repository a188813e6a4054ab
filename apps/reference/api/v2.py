"""v2 reference metadata: the v1 endpoints' data under ``/api/v2/metadata/...`` with the v2 ``meta``
(processing time, returned count, tenant, version) and RFC 7807 errors."""

from __future__ import annotations

import time
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.request import Request
from rest_framework.response import Response

from apps.reference.api import views as v1
from aurum.api.conditional import cached_response
from aurum.api.envelope import envelope


class _V2:
    def respond(self, request: Request, data: Any, started: float) -> Response:
        took = (time.perf_counter() - started) * 1000
        body = envelope(data, query_time_ms=took)
        membership = getattr(request._request, "aurum_membership", None)
        body["meta"].update(
            {
                "processing_time_ms": round(took, 3),
                "returned_count": len(data) if isinstance(data, list) else 1,
                "tenant_id": membership.tenant.schema_name if membership else None,
                "version": "v2",
            }
        )
        return cached_response(request, body, ttl=v1.METADATA_TTL)


def _doc(description: str, example: Any, parameters: list[OpenApiParameter] | None = None) -> Any:
    return extend_schema_view(
        get=extend_schema(
            description=description,
            parameters=parameters or [],
            responses={200: OpenApiTypes.OBJECT},
            examples=[
                OpenApiExample(
                    "Example", value={"meta": {"version": "v2"}, "data": example}, response_only=True
                )
            ],
        )
    )


@_doc(
    "ISO pricing locations (nodes, zones, hubs).",
    [{"iso": "PJM", "location_id": "51288", "location_name": "WESTERN HUB", "location_type": "HUB"}],
    [OpenApiParameter("iso", str), OpenApiParameter("prefix", str)],
)
class LocationListV2Api(_V2, v1.LocationListApi):
    pass


@_doc(
    "One location; 404 when unknown.", {"iso": "PJM", "location_id": "51288", "timezone": "America/New_York"}
)
class LocationDetailV2Api(_V2, v1.LocationDetailApi):
    pass


@_doc("Currencies and units of the units map.", {"currencies": ["EUR", "USD"], "units": ["MWh", "MMBtu"]})
class UnitsV2Api(_V2, v1.UnitsApi):
    pass


@_doc(
    "Raw vendor unit strings and their currency / unit.",
    [{"units_raw": "EUR/MWh", "currency": "EUR", "per_unit": "MWh"}],
    [OpenApiParameter("prefix", str)],
)
class UnitsMappingV2Api(_V2, v1.UnitsMappingApi):
    pass


@_doc("Trading calendars.", [{"name": "pjm", "timezone": "America/New_York"}])
class CalendarListV2Api(_V2, v1.CalendarListApi):
    pass


@_doc("A calendar's blocks.", ["2X16", "5X16", "7X8", "ATC"])
class CalendarBlocksV2Api(_V2, v1.CalendarBlocksApi):
    pass


@_doc(
    "The hours of a block on one day (ISO datetimes in the calendar's zone).",
    ["2025-09-12T07:00:00-04:00"],
    [
        OpenApiParameter("block", str, required=True),
        OpenApiParameter("date", OpenApiTypes.DATE, required=True),
    ],
)
class CalendarHoursV2Api(_V2, v1.CalendarHoursApi):
    pass


@_doc(
    "The hours of a block over a range (at most 366 days).",
    ["2025-09-12T07:00:00-04:00"],
    [
        OpenApiParameter("block", str, required=True),
        OpenApiParameter("start", OpenApiTypes.DATE, required=True),
        OpenApiParameter("end", OpenApiTypes.DATE, required=True),
    ],
)
class CalendarExpandV2Api(_V2, v1.CalendarExpandApi):
    pass
