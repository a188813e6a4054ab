"""v1 metadata endpoints over the shared reference data (the original contract, ``/api/v1/metadata/...``)."""

import time
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.reference.models import Calendar, CalendarBlock, IsoNode, UnitMapping
from apps.reference.selectors import calendar_expand
from aurum.api.conditional import cached_response
from aurum.api.envelope import envelope

METADATA_TTL = 300  # seconds (spec 3.1: metadata)
MAX_EXPAND_DAYS = 366


class _MetadataApi(APIView):
    def respond(self, request: Request, data: Any, started: float) -> Response:
        body = envelope(data, query_time_ms=(time.perf_counter() - started) * 1000)
        if isinstance(data, list):
            body["meta"]["count"] = len(data)
        return cached_response(request, body, ttl=METADATA_TTL)


def _location(node: IsoNode) -> dict[str, Any]:
    return {
        "iso": node.iso_id,
        "location_id": node.location_id,
        "location_name": node.location_name or None,
        "location_type": node.location_type or None,
        "zone": node.zone or None,
        "hub": node.hub or None,
        "timezone": node.timezone or None,
    }


class LocationsQuery(serializers.Serializer):
    iso = serializers.RegexField(
        r"^[A-Za-z]{2,16}$", required=False, error_messages={"invalid": "iso must be alphabetic."}
    )
    prefix = serializers.CharField(max_length=64, required=False)


class LocationListApi(_MetadataApi):
    def get(self, request: Request) -> Response:
        started = time.perf_counter()
        query = LocationsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        nodes = IsoNode.objects.order_by("iso", "location_id")
        if iso := query.validated_data.get("iso"):
            nodes = nodes.filter(iso_id=iso.upper())
        if prefix := query.validated_data.get("prefix"):
            nodes = nodes.filter(location_name__istartswith=prefix) | nodes.filter(
                location_id__istartswith=prefix
            )
        return self.respond(request, [_location(n) for n in nodes.order_by("iso", "location_id")], started)


class LocationDetailApi(_MetadataApi):
    def get(self, request: Request, iso: str, location_id: str) -> Response:
        started = time.perf_counter()
        node = IsoNode.objects.filter(iso_id=iso.upper(), location_id=location_id).first()
        if node is None:
            raise NotFound(f"Unknown location '{location_id}' for ISO '{iso.upper()}'.")
        return self.respond(request, _location(node), started)


class PrefixQuery(serializers.Serializer):
    prefix = serializers.CharField(max_length=64, required=False)


class UnitsApi(_MetadataApi):
    def get(self, request: Request) -> Response:
        started = time.perf_counter()
        query = PrefixQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        prefix = (query.validated_data.get("prefix") or "").upper()
        currencies = sorted(
            {
                c
                for c in UnitMapping.objects.values_list("currency", flat=True)
                if c.upper().startswith(prefix)
            }
        )
        units = sorted(
            {
                u
                for u in UnitMapping.objects.values_list("per_unit", flat=True)
                if u.upper().startswith(prefix)
            }
        )
        return self.respond(request, {"currencies": currencies, "units": units}, started)


class UnitsMappingApi(_MetadataApi):
    def get(self, request: Request) -> Response:
        started = time.perf_counter()
        query = PrefixQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        mappings = UnitMapping.objects.order_by("units_raw")
        if prefix := query.validated_data.get("prefix"):
            mappings = mappings.filter(units_raw__istartswith=prefix)
        data = [{"units_raw": m.units_raw, "currency": m.currency, "per_unit": m.per_unit} for m in mappings]
        return self.respond(request, data, started)


class CalendarListApi(_MetadataApi):
    def get(self, request: Request) -> Response:
        started = time.perf_counter()
        data = [{"name": c.name, "timezone": c.timezone} for c in Calendar.objects.order_by("name")]
        return self.respond(request, data, started)


def _calendar(name: str) -> Calendar:
    calendar = Calendar.objects.filter(name=name.lower()).first()
    if calendar is None:
        raise NotFound(f"Unknown calendar '{name}'.")
    return calendar


class CalendarBlocksApi(_MetadataApi):
    def get(self, request: Request, name: str) -> Response:
        started = time.perf_counter()
        calendar = _calendar(name)
        blocks = list(
            CalendarBlock.objects.filter(calendar=calendar).order_by("block").values_list("block", flat=True)
        )
        return self.respond(request, blocks, started)


class HoursQuery(serializers.Serializer):
    block = serializers.CharField(max_length=32)
    date = serializers.DateField()


class ExpandQuery(serializers.Serializer):
    block = serializers.CharField(max_length=32)
    start = serializers.DateField()
    end = serializers.DateField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": "end must not be before start."})
        if (attrs["end"] - attrs["start"]).days >= MAX_EXPAND_DAYS:
            raise serializers.ValidationError({"end": f"At most {MAX_EXPAND_DAYS} days per request."})
        return attrs


def _hours(calendar: Calendar, block: str, start: date, end: date) -> list[str]:
    if not CalendarBlock.objects.filter(calendar=calendar, block=block.upper()).exists():
        raise NotFound(f"Unknown block '{block}' for calendar '{calendar.name}'.")
    zone = ZoneInfo(calendar.timezone)
    return [
        datetime(day.year, day.month, day.day, hour, tzinfo=zone).isoformat()
        for day, hours in calendar_expand(calendar=calendar.name, block=block, start=start, end=end)
        for hour in hours
    ]


class CalendarHoursApi(_MetadataApi):
    def get(self, request: Request, name: str) -> Response:
        started = time.perf_counter()
        calendar = _calendar(name)
        query = HoursQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        day = query.validated_data["date"]
        return self.respond(request, _hours(calendar, query.validated_data["block"], day, day), started)


class CalendarExpandApi(_MetadataApi):
    def get(self, request: Request, name: str) -> Response:
        started = time.perf_counter()
        calendar = _calendar(name)
        query = ExpandQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = _hours(
            calendar,
            query.validated_data["block"],
            query.validated_data["start"],
            query.validated_data["end"],
        )
        return self.respond(request, data, started)
