"""v2 reference metadata under ``/api/v2/metadata/...``: the v1 endpoints' data with the v2 ``meta``
(processing time, returned count, tenant, version) and RFC 7807 errors. The catalogs (locations, unit
mappings, calendars, a calendar's blocks) are v2 lists: cursor paging, ``links`` and a ``Link`` header."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.reference.api.serializers import (
    METADATA_TTL,
    ExpandQuery,
    HoursQuery,
    LocationsQuery,
    PrefixQuery,
    calendar_out,
    location_out,
    unit_mapping_out,
    validated,
)
from apps.reference.selectors import (
    calendar_block_datetimes,
    calendar_block_names,
    calendar_get,
    calendar_list,
    iso_node_get,
    iso_node_list,
    unit_mapping_list,
    units_canonical,
)
from aurum.api.paging import PageRequest, page_slice, v2_page_request
from aurum.api.responses import object_response, v2_list_response, v2_meta

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
PAGE_PARAMETERS = [
    OpenApiParameter("limit", int, description=f"1-{MAX_LIMIT}, default {DEFAULT_LIMIT}"),
    OpenApiParameter("cursor", str, description="meta.next_cursor / links.next of the previous page"),
]


def _page(request: Request, filters: dict[str, Any]) -> PageRequest:
    return v2_page_request(request, filters=filters, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)


def _object(request: Request, data: Any) -> Response:
    returned = len(data) if isinstance(data, list) else 1
    return object_response(request, data, ttl=METADATA_TTL, meta=v2_meta(request, returned_count=returned))


def _doc(
    description: str,
    example: Any,
    parameters: list[OpenApiParameter] | None = None,
    operation_id: str | None = None,
) -> Any:
    return extend_schema_view(
        get=extend_schema(
            operation_id=operation_id,
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
    "ISO pricing locations (nodes, zones, hubs), by ISO and location id.",
    [{"iso": "PJM", "location_id": "51288", "location_name": "WESTERN HUB", "location_type": "HUB"}],
    [OpenApiParameter("iso", str), OpenApiParameter("prefix", str), *PAGE_PARAMETERS],
    operation_id="metadata_locations_list",
)
class LocationListV2Api(APIView):
    def get(self, request: Request) -> Response:
        query = validated(LocationsQuery, request)
        filters = {"iso": (query.get("iso") or "").upper() or None, "prefix": query.get("prefix")}
        page = _page(request, filters)
        nodes, has_more = page_slice(iso_node_list(**filters), page)
        data = [location_out(node) for node in nodes]
        return v2_list_response(
            request, data, page=page, has_more=has_more, filters=filters, ttl=METADATA_TTL
        )


@_doc(
    "One location; 404 when unknown.", {"iso": "PJM", "location_id": "51288", "timezone": "America/New_York"}
)
class LocationDetailV2Api(APIView):
    def get(self, request: Request, iso: str, location_id: str) -> Response:
        return _object(request, location_out(iso_node_get(iso=iso, location_id=location_id)))


@_doc("Currencies and units of the units map.", {"currencies": ["EUR", "USD"], "units": ["MWh", "MMBtu"]})
class UnitsV2Api(APIView):
    def get(self, request: Request) -> Response:
        query = validated(PrefixQuery, request)
        return _object(request, units_canonical(prefix=query.get("prefix") or ""))


@_doc(
    "Raw vendor unit strings and their currency / unit, by unit string.",
    [{"units_raw": "EUR/MWh", "currency": "EUR", "per_unit": "MWh"}],
    [OpenApiParameter("prefix", str), *PAGE_PARAMETERS],
)
class UnitsMappingV2Api(APIView):
    def get(self, request: Request) -> Response:
        filters = {"prefix": validated(PrefixQuery, request).get("prefix")}
        page = _page(request, filters)
        mappings, has_more = page_slice(unit_mapping_list(**filters), page)
        data = [unit_mapping_out(mapping) for mapping in mappings]
        return v2_list_response(
            request, data, page=page, has_more=has_more, filters=filters, ttl=METADATA_TTL
        )


@_doc("Trading calendars, by name.", [{"name": "pjm", "timezone": "America/New_York"}], PAGE_PARAMETERS)
class CalendarListV2Api(APIView):
    def get(self, request: Request) -> Response:
        page = _page(request, {})
        calendars, has_more = page_slice(calendar_list(), page)
        data = [calendar_out(calendar) for calendar in calendars]
        return v2_list_response(request, data, page=page, has_more=has_more, filters={}, ttl=METADATA_TTL)


@_doc("A calendar's blocks, by name.", ["2X16", "5X16", "7X8", "ATC"], PAGE_PARAMETERS)
class CalendarBlocksV2Api(APIView):
    def get(self, request: Request, name: str) -> Response:
        calendar = calendar_get(name=name)
        filters = {"calendar": calendar.name}
        page = _page(request, filters)
        blocks, has_more = page_slice(calendar_block_names(calendar=calendar), page)
        return v2_list_response(
            request, blocks, page=page, has_more=has_more, filters=filters, ttl=METADATA_TTL
        )


@_doc(
    "The hours of a block on one day (ISO datetimes in the calendar's zone).",
    ["2025-09-12T07:00:00-04:00"],
    [
        OpenApiParameter("block", str, required=True),
        OpenApiParameter("date", OpenApiTypes.DATE, required=True),
    ],
)
class CalendarHoursV2Api(APIView):
    def get(self, request: Request, name: str) -> Response:
        calendar = calendar_get(name=name)
        query = validated(HoursQuery, request)
        day = query["date"]
        return _object(
            request, calendar_block_datetimes(calendar=calendar, block=query["block"], start=day, end=day)
        )


@_doc(
    "The hours of a block over a range (at most 366 days).",
    ["2025-09-12T07:00:00-04:00"],
    [
        OpenApiParameter("block", str, required=True),
        OpenApiParameter("start", OpenApiTypes.DATE, required=True),
        OpenApiParameter("end", OpenApiTypes.DATE, required=True),
    ],
)
class CalendarExpandV2Api(APIView):
    def get(self, request: Request, name: str) -> Response:
        calendar = calendar_get(name=name)
        query = validated(ExpandQuery, request)
        hours = calendar_block_datetimes(
            calendar=calendar, block=query["block"], start=query["start"], end=query["end"]
        )
        return _object(request, hours)
