from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from aurum.events.models import OutboxEvent


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: the outbox is written by services and drained by the relay, never edited by hand."""

    list_display = (
        "id",
        "event_type",
        "tenant_schema",
        "occurred_at",
        "relayed_at",
        "attempts",
        "last_error",
    )
    list_filter = ("event_type", "tenant_schema")
    search_fields = ("event_id", "event_type", "tenant_schema")
    readonly_fields = [field.name for field in OutboxEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
