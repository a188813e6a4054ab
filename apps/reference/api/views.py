"""v1 metadata endpoints over the shared reference data (the original contract, ``/api/v1/metadata/...``).

The contract gives these lists no paging: each answers its whole (small) catalog with ``meta.count``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.reference.api.schema import (
    V1_CALENDAR_BLOCKS,
    V1_CALENDAR_HOURS,
    V1_CALENDARS,
    V1_LOCATION,
    V1_LOCATIONS,
    V1_UNIT_MAPPINGS,
    V1_UNITS,
)
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
from aurum.api.conditional import cached_response
from aurum.api.envelope import envelope
from aurum.api.responses import elapsed_ms, object_response


def _whole_list(request: Request, data: list[Any]) -> Response:
    body = envelope(data, query_time_ms=elapsed_ms(request), count=len(data))
    return cached_response(request, body, ttl=METADATA_TTL)


class LocationListApi(APIView):
    @extend_schema(
        operation_id="v1_metadata_locations_list",
        parameters=[LocationsQuery],
        responses=V1_LOCATIONS,
        description="ISO pricing locations (nodes, zones, hubs) by ISO and location id; prefix matches the "
        "name or the id.",
    )
    def get(self, request: Request) -> Response:
        query = validated(LocationsQuery, request)
        nodes = iso_node_list(iso=query.get("iso"), prefix=query.get("prefix"))
        return _whole_list(request, [location_out(node) for node in nodes])


class LocationDetailApi(APIView):
    @extend_schema(responses=V1_LOCATION, description="One location (ISO in any case); 404 when unknown.")
    def get(self, request: Request, iso: str, location_id: str) -> Response:
        node = iso_node_get(iso=iso, location_id=location_id)
        return object_response(request, location_out(node), ttl=METADATA_TTL)


class UnitsApi(APIView):
    @extend_schema(
        parameters=[PrefixQuery],
        responses=V1_UNITS,
        description="The currencies and units the unit mappings resolve to, each starting with prefix.",
    )
    def get(self, request: Request) -> Response:
        query = validated(PrefixQuery, request)
        return object_response(request, units_canonical(prefix=query.get("prefix") or ""), ttl=METADATA_TTL)


class UnitsMappingApi(APIView):
    @extend_schema(
        parameters=[PrefixQuery],
        responses=V1_UNIT_MAPPINGS,
        description="Vendor unit strings and their currency and unit, by unit string.",
    )
    def get(self, request: Request) -> Response:
        query = validated(PrefixQuery, request)
        mappings = unit_mapping_list(prefix=query.get("prefix"))
        return _whole_list(request, [unit_mapping_out(mapping) for mapping in mappings])


class CalendarListApi(APIView):
    @extend_schema(responses=V1_CALENDARS, description="Trading calendars.")
    def get(self, request: Request) -> Response:
        return _whole_list(request, [calendar_out(calendar) for calendar in calendar_list()])


class CalendarBlocksApi(APIView):
    @extend_schema(
        responses=V1_CALENDAR_BLOCKS,
        description="A calendar's block names (e.g. 5X16, ATC); 404 for an unknown calendar.",
    )
    def get(self, request: Request, name: str) -> Response:
        blocks = list(calendar_block_names(calendar=calendar_get(name=name)))
        return _whole_list(request, blocks)


class CalendarHoursApi(APIView):
    @extend_schema(
        parameters=[HoursQuery],
        responses=V1_CALENDAR_HOURS,
        description="The hours of a block on one day.",
    )
    def get(self, request: Request, name: str) -> Response:
        calendar = calendar_get(name=name)
        query = validated(HoursQuery, request)
        day = query["date"]
        hours = calendar_block_datetimes(calendar=calendar, block=query["block"], start=day, end=day)
        return _whole_list(request, hours)


class CalendarExpandApi(APIView):
    @extend_schema(
        parameters=[ExpandQuery],
        responses=V1_CALENDAR_HOURS,
        description="The hours of a block from start to end (at most 366 days).",
    )
    def get(self, request: Request, name: str) -> Response:
        calendar = calendar_get(name=name)
        query = validated(ExpandQuery, request)
        hours = calendar_block_datetimes(
            calendar=calendar, block=query["block"], start=query["start"], end=query["end"]
        )
        return _whole_list(request, hours)
