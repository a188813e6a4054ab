from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from apps.offboarding.models import OffboardingReport


@admin.register(OffboardingReport)
class OffboardingReportAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: rows are written by the offboarding services (the tenant's admin action, the command)."""

    list_display = ["schema_name", "tenant_name", "status", "scheduled_at", "delete_after", "deleted_at"]
    list_filter = ["status"]
    readonly_fields = [field.name for field in OffboardingReport._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OffboardingReport | None = None) -> bool:
        return False
