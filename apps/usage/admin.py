from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.usage.models import QuotaThreshold, UsageDay


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Written by the flush and by the quota checks only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(UsageDay)
class UsageDayAdmin(ReadOnlyAdmin):
    list_display = ("tenant", "day", "credential", "metric", "count")
    list_filter = ("metric", "tenant")
    date_hierarchy = "day"


@admin.register(QuotaThreshold)
class QuotaThresholdAdmin(ReadOnlyAdmin):
    list_display = ("tenant", "month", "metric", "threshold", "limit", "used", "created_at")
    list_filter = ("metric", "threshold", "tenant")
