"""Input and output shapes of the metadata APIs (v1 and v2 share them)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request

from apps.reference.models import Calendar, IsoNode, UnitMapping

METADATA_TTL = 300  # seconds (spec 3.1: metadata)
MAX_EXPAND_DAYS = 366


def validated(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class LocationsQuery(serializers.Serializer):
    iso = serializers.RegexField(
        r"^[A-Za-z]{2,16}$", required=False, error_messages={"invalid": "iso must be alphabetic."}
    )
    prefix = serializers.CharField(max_length=64, required=False)


class PrefixQuery(serializers.Serializer):
    prefix = serializers.CharField(max_length=64, required=False)


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


def location_out(node: IsoNode) -> dict[str, Any]:
    return {
        "iso": node.iso_id,
        "location_id": node.location_id,
        "location_name": node.location_name or None,
        "location_type": node.location_type or None,
        "zone": node.zone or None,
        "hub": node.hub or None,
        "timezone": node.timezone or None,
    }


def unit_mapping_out(mapping: UnitMapping) -> dict[str, Any]:
    return {"units_raw": mapping.units_raw, "currency": mapping.currency, "per_unit": mapping.per_unit}


def calendar_out(calendar: Calendar) -> dict[str, Any]:
    return {"name": calendar.name, "timezone": calendar.timezone}
