"""Input and output shapes of the audit API."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.audit.canonical import timestamp_text
from apps.audit.models import AuditEntry

EXPORT_FORMATS = ("csv", "jsonl")


class AuditQuery(serializers.Serializer):
    """``from`` and ``to`` are Python keywords: declared in ``get_fields``."""

    actor = serializers.CharField(required=False, allow_blank=True, max_length=80, default="")
    action = serializers.CharField(required=False, allow_blank=True, max_length=64, default="")
    resource = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = serializers.DateTimeField(required=False)
        fields["to"] = serializers.DateTimeField(required=False)
        return fields


class AuditExportQuery(serializers.Serializer):
    format = serializers.ChoiceField(choices=EXPORT_FORMATS, default="jsonl")


class AuditActorOutput(serializers.Serializer):
    kind = serializers.CharField()
    id = serializers.CharField()
    display = serializers.CharField()


class AuditResourceOutput(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.CharField()


class AuditEntryOutput(serializers.ModelSerializer):
    at = serializers.SerializerMethodField()
    actor = serializers.SerializerMethodField()
    resource = serializers.SerializerMethodField()
    changes = serializers.SerializerMethodField()

    class Meta:
        model = AuditEntry
        fields = [
            "sequence",
            "at",
            "actor",
            "action",
            "resource",
            "changes",
            "request_id",
            "remote_addr",
            "prev_hash",
            "hash",
        ]

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_at(self, entry: AuditEntry) -> str:
        return timestamp_text(entry.at)

    @extend_schema_field(AuditActorOutput)
    def get_actor(self, entry: AuditEntry) -> dict[str, str]:
        return {"kind": entry.actor_kind, "id": entry.actor_id, "display": entry.actor_display}

    @extend_schema_field(AuditResourceOutput)
    def get_resource(self, entry: AuditEntry) -> dict[str, str]:
        return {"type": entry.resource_type, "id": entry.resource_id}

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_changes(self, entry: AuditEntry) -> dict[str, Any]:
        data: dict[str, Any] = entry.changes_data
        return data
