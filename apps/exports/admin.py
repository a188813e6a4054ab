from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from apps.exports.models import TenantExport


@admin.register(TenantExport)
class TenantExportAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: platform staff find an offboarded tenant's final export (its file path and sha256) here."""

    list_display = ["schema_name", "status", "reason", "requested_at", "finished_at", "size", "expires_at"]
    list_filter = ["status", "reason"]
    search_fields = ["schema_name"]
    readonly_fields = [field.name for field in TenantExport._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: TenantExport | None = None) -> bool:
        return False
