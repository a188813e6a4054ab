"""The OpenAPI shapes of the metadata bodies (``serializers.location_out`` and friends), named as in the v1
contract (``openapi-spec-v1.yaml``)."""

from __future__ import annotations

from rest_framework import serializers

from aurum.api.openapi import V1CountMeta, v1_envelope


class IsoLocationOut(serializers.Serializer):
    iso = serializers.CharField()
    location_id = serializers.CharField()
    location_name = serializers.CharField(allow_null=True)
    location_type = serializers.CharField(allow_null=True, help_text="NODE, ZONE, HUB, …")
    zone = serializers.CharField(allow_null=True)
    hub = serializers.CharField(allow_null=True)
    timezone = serializers.CharField(allow_null=True)


class UnitMappingOut(serializers.Serializer):
    units_raw = serializers.CharField(help_text="the vendor's unit text, e.g. EUR/MWh")
    currency = serializers.CharField()
    per_unit = serializers.CharField()


class UnitsCanonical(serializers.Serializer):
    currencies = serializers.ListField(child=serializers.CharField())
    units = serializers.ListField(child=serializers.CharField())


class CalendarOut(serializers.Serializer):
    name = serializers.CharField()
    timezone = serializers.CharField()


HOURS = serializers.ListField(
    child=serializers.CharField(),
    help_text="ISO datetimes in the calendar's zone, e.g. 2025-09-12T07:00:00-04:00",
)
V1_LOCATIONS = v1_envelope("IsoLocationsResponse", IsoLocationOut(many=True), V1CountMeta())
V1_LOCATION = v1_envelope("IsoLocationResponse", IsoLocationOut())
V1_UNITS = v1_envelope("UnitsCanonicalResponse", UnitsCanonical())
V1_UNIT_MAPPINGS = v1_envelope("UnitsMappingResponse", UnitMappingOut(many=True), V1CountMeta())
V1_CALENDARS = v1_envelope("CalendarsResponse", CalendarOut(many=True), V1CountMeta())
V1_CALENDAR_BLOCKS = v1_envelope(
    "CalendarBlocksResponse", serializers.ListField(child=serializers.CharField()), V1CountMeta()
)
V1_CALENDAR_HOURS = v1_envelope("CalendarHoursResponse", HOURS, V1CountMeta())
