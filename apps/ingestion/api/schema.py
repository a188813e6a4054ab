"""The OpenAPI shape of a point's lineage (``selectors.curve_point_lineage``) in its ``{meta, data}`` body."""

from __future__ import annotations

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from aurum.api.openapi import v1_envelope


class LineagePoint(serializers.Serializer):
    curve_key = serializers.CharField()
    tenor_label = serializers.CharField()
    tenor_type = serializers.CharField(allow_null=True)
    contract_month = serializers.DateField(allow_null=True)
    asof_date = serializers.DateField()
    mid = serializers.FloatField(allow_null=True)
    bid = serializers.FloatField(allow_null=True)
    ask = serializers.FloatField(allow_null=True)
    value = serializers.FloatField(allow_null=True)
    price_type = serializers.CharField(allow_null=True)
    units_raw = serializers.CharField(allow_null=True)
    currency = serializers.CharField(allow_null=True)
    per_unit = serializers.CharField(allow_null=True)
    source_file = serializers.CharField()
    sheet_name = serializers.CharField(allow_null=True)
    version_hash = serializers.CharField()
    _ingest_ts = serializers.DateTimeField(help_text="when the row was written")
    is_derived = serializers.BooleanField(allow_null=True)


class LineageSource(serializers.Serializer):
    file_name = serializers.CharField()
    sha256 = serializers.CharField(allow_null=True)
    sheet_name = serializers.CharField(allow_null=True)
    dataset = serializers.CharField()
    version_hash = serializers.CharField()
    derived_from_monthly_points = serializers.BooleanField()


class LineageIngestRun(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    snapshot_id = serializers.IntegerField(allow_null=True, help_text="the Iceberg snapshot the run wrote")


class LineageQuarantineRelease(serializers.Serializer):
    id = serializers.IntegerField(help_text="the decision (GET /api/v2/ingest/quarantine shows it per row)")
    row = serializers.IntegerField(help_text="the quarantined row released")
    decided_by = serializers.CharField()
    decided_at = serializers.DateTimeField()
    reason = serializers.CharField()
    snapshot_id = serializers.IntegerField(
        allow_null=True, help_text="the Iceberg snapshot the release wrote"
    )


# Built from a dict: a serializer class may not declare a field named "source" (it is a Field attribute).
LINEAGE = v1_envelope(
    "CurveLineageResponse",
    inline_serializer(
        name="Lineage",
        fields={
            "point": LineagePoint(),
            "source": LineageSource(),
            "ingest_run": LineageIngestRun(),
            "quality_rules_passed": serializers.ListField(child=serializers.CharField()),
            "read_from_snapshot_id": serializers.IntegerField(allow_null=True),
            "quarantine_release": LineageQuarantineRelease(
                allow_null=True,
                help_text="the operator's release, when the run's validate stage held the point back "
                "(decision 0041); null otherwise",
            ),
        },
    ),
)
