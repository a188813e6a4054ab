"""Output shape of tenant exports."""

from __future__ import annotations

from rest_framework import serializers

from apps.exports.models import TenantExport


class TenantExportOutput(serializers.ModelSerializer):
    requested_by = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = TenantExport
        fields = [
            "id",
            "status",
            "reason",
            "requested_by",
            "requested_at",
            "started_at",
            "finished_at",
            "size",
            "sha256",
            "expires_at",
            "error",
            "download_url",
        ]

    def get_requested_by(self, export: TenantExport) -> str | None:
        return export.requested_by.email if export.requested_by else None

    def get_download_url(self, export: TenantExport) -> str | None:
        if export.status != TenantExport.Status.SUCCEEDED:
            return None
        return f"/api/v2/exports/{export.pk}/download"
