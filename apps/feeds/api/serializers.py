"""Query parameters of the feed reads and the shapes of their rows (v1 contract names, v2 alike)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from typing import Any

from rest_framework import serializers
from rest_framework.request import Request

from apps.feeds.models import EiaDataset, Series

METADATA_TTL = 300  # spec 3.1: metadata
SERIES_TTL = 120  # spec 3.1: EIA series
DIMENSIONS_TTL = 300
LMP_TTL = 60


def validated(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return {k: v for k, v in serializer.validated_data.items() if v not in (None, "")}


def utc(value: Any) -> datetime | None:
    """A datetime or date parameter as an aware UTC datetime (a date: its midnight)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, time.min, tzinfo=UTC)


class Format(serializers.Serializer):
    format = serializers.ChoiceField(choices=("json", "csv"), default="json")


class LmpQuery(Format):
    iso_code = serializers.CharField(max_length=16, required=False, help_text="CAISO, MISO…")
    market = serializers.CharField(max_length=32, required=False, help_text="DAY_AHEAD, REAL_TIME…")
    location_id = serializers.CharField(max_length=200, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=500, required=False)

    def validate_iso_code(self, value: str) -> str:
        return value.upper()


class LmpRangeQuery(LmpQuery):
    start = serializers.DateTimeField(required=False, help_text="earliest interval_start (ISO 8601)")
    end = serializers.DateTimeField(required=False, help_text="latest interval_start (ISO 8601)")


class EiaSeriesQuery(serializers.Serializer):
    series_id = serializers.CharField(max_length=128, required=False)
    frequency = serializers.CharField(max_length=32, required=False)
    area = serializers.CharField(max_length=128, required=False)
    sector = serializers.CharField(max_length=128, required=False)
    dataset = serializers.CharField(max_length=200, required=False)
    unit = serializers.CharField(max_length=64, required=False)
    canonical_unit = serializers.CharField(max_length=64, required=False)
    canonical_currency = serializers.CharField(max_length=8, required=False)
    # "source" is also Field.source (the attribute a field reads): declared through the fields mapping.

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["source"] = serializers.CharField(
            max_length=32, required=False, help_text="EIA (the only source)"
        )
        return fields


class EiaSeriesRange(EiaSeriesQuery):
    start = serializers.DateTimeField(required=False, help_text="period_start on or after")
    end = serializers.DateTimeField(required=False, help_text="period_start on or before")


class PrefixQuery(serializers.Serializer):
    prefix = serializers.CharField(max_length=200, required=False)


class ExternalSeriesQuery(serializers.Serializer):
    provider = serializers.CharField(max_length=16, required=False)
    frequency = serializers.CharField(max_length=32, required=False)
    asof = serializers.CharField(max_length=32, required=False, help_text="accepted; the catalog is current")


class ObservationsQuery(serializers.Serializer):
    start_date = serializers.DateField(required=False)
    end_date = serializers.DateField(required=False)
    frequency = serializers.CharField(max_length=32, required=False, help_text="accepted: a series has one")
    asof = serializers.CharField(max_length=32, required=False, help_text="accepted; the latest fetch wins")
    format = serializers.ChoiceField(choices=("json", "csv"), default="json")


class MetadataExternalQuery(serializers.Serializer):
    provider = serializers.CharField(max_length=16, required=False)
    include_counts = serializers.BooleanField(default=False)


class RegionQuery(serializers.Serializer):
    region = serializers.RegexField(r"^[A-Z0-9_]+:[A-Za-z0-9_.-]+$", required=False, help_text="TYPE:ID")
    region_type = serializers.CharField(max_length=16, required=False)
    region_id = serializers.CharField(max_length=64, required=False)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    limit = serializers.IntegerField(min_value=1, max_value=500, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("region"):
            attrs["region_type"], attrs["region_id"] = attrs.pop("region").split(":", 1)
        return attrs


class DroughtIndexQuery(RegionQuery):
    dataset = serializers.CharField(max_length=32, required=False)
    index = serializers.CharField(max_length=32, required=False)
    timescale = serializers.RegexField(r"^\d+[MW]$", required=False)


class ValidDate(serializers.Serializer):
    valid_date = serializers.DateField()


# --- rows --------------------------------------------------------------------------------------------


def _meta(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    return {str(k): str(v) for k, v in json.loads(text).items()}


def lmp_point(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "iso_code": row["iso_code"],
        "market": row["market"],
        "delivery_date": row["delivery_date"],
        "interval_start": row["interval_start"],
        "interval_end": row["interval_end"],
        "interval_minutes": row["interval_minutes"],
        "location_id": row["location_id"],
        "location_name": row["location_name"],
        "location_type": row["location_type"],
        "price_total": row["price_total"],
        "price_energy": row["price_energy"],
        "price_congestion": row["price_congestion"],
        "price_loss": row["price_loss"],
        "currency": row["currency"],
        "uom": row["uom"],
        "settlement_point": None,
        "source_run_id": str(row["fetch_run_id"]),
        "ingest_ts": row["fetched_at"],
        "record_hash": row["record_hash"],
        "metadata": {k: str(row[k]) for k in ("zone", "hub", "timezone") if row.get(k)},
    }


def lmp_aggregate(row: dict[str, Any]) -> dict[str, Any]:
    start = row["interval_start"]
    return {**row, "interval_start": start.replace(tzinfo=UTC) if start.tzinfo is None else start}


def eia_point(row: dict[str, Any]) -> dict[str, Any]:
    meta = _meta(row["metadata"])
    canonical = row["canonical_unit"] is not None
    return {
        "series_id": row["series_id"],
        "period": row["period"],
        "period_start": row["ts"],
        "period_end": None,
        "frequency": row["frequency"],
        "value": row["value"],
        "raw_value": row["value_raw"],
        "unit": row["unit"],
        "canonical_unit": row["canonical_unit"],
        "canonical_currency": row["canonical_currency"],
        "canonical_value": row["value"] if canonical else None,
        "conversion_factor": 1.0 if canonical else None,
        "area": row["area"],
        "sector": row["sector"],
        "seasonal_adjustment": None,
        "description": meta.pop("description", None),
        "source": "EIA",
        "dataset": row["dataset"],
        "metadata": meta,
        "ingest_ts": row["fetched_at"],
    }


def observation(row: dict[str, Any], key: str) -> dict[str, Any]:
    return {
        "series_id": key,
        "observation_date": row["period"],
        "value": row["value"],
        "observation_metadata": {
            **_meta(row["metadata"]),
            "status": row["status"] or "",
            "unit": row["unit"] or "",
        },
    }


def external_series(
    series: Series, counts: dict[tuple[str, str], tuple[int, datetime | None]]
) -> dict[str, Any]:
    count, fetched = counts.get((series.provider, series.series_id), (0, None))
    return {
        "id": series.key,
        "provider_id": series.provider,
        "name": series.title,
        "frequency": series.frequency_code,
        "description": series.description,
        "units": series.unit_code or None,
        "last_updated": fetched or series.updated_at,
        "observation_count": count,
    }


def eia_dataset_brief(dataset: EiaDataset) -> dict[str, Any]:
    return {
        "path": dataset.path,
        "name": dataset.name or None,
        "description": dataset.description or None,
        "default_frequency": dataset.default_frequency or None,
        "start_period": dataset.start_period or None,
        "end_period": dataset.end_period or None,
    }


def eia_dataset_detail(dataset: EiaDataset) -> dict[str, Any]:
    return {
        **eia_dataset_brief(dataset),
        "frequencies": dataset.frequencies,
        "facets": dataset.facets,
        "data_columns": dataset.data_columns,
        "default_date_format": dataset.default_date_format or None,
    }


def usdm_point(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "region_type": row["region_type"],
        "region_id": row["region_id"],
        "region_name": row["region_name"],
        "parent_region_id": None,
        "valid_date": row["valid_date"],
        "as_of": row["fetched_at"],
        **{f"d{n}_frac": row[f"d{n}_frac"] for n in range(5)},
        "source_url": row["source_url"],
        "metadata": {"fetch_run_id": row["fetch_run_id"]},
    }


def index_point(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **{
            k: row[k]
            for k in ("series_id", "dataset", "index", "timescale", "valid_date", "value", "unit", "poc")
        },
        "as_of": row["fetched_at"],
        **{k: row[k] for k in ("region_type", "region_id", "region_name", "source_url")},
        "parent_region_id": None,
        "metadata": {"fetch_run_id": row["fetch_run_id"]},
    }
