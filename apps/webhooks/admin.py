"""Django admin for webhook endpoints and their delivery log (tenant schema: the platform admin shows the
tenant its schema is set to). Actions call the services; nothing here writes rows itself."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.webhooks.models import WebhookDelivery, WebhookEndpoint
from apps.webhooks.services.endpoints import webhook_endpoint_enable
from apps.webhooks.services.messages import webhook_message_redeliver


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("url", "description", "is_enabled", "consecutive_failures", "sequence", "created_at")
    list_filter = ("is_enabled",)
    search_fields = ("url", "description")
    exclude = ("secret", "previous_secret")  # never shown after creation
    readonly_fields = (
        "sequence",
        "consecutive_failures",
        "failing_since",
        "disabled_reason",
        "disabled_at",
        "lease_until",
        "previous_secret_expires_at",
        "created_by_membership_id",
    )
    actions = ["enable"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created through the API or the portal, which show the secret once

    @admin.action(description="Enable the selected endpoints (deliver what they hold)")
    def enable(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            webhook_endpoint_enable(endpoint=endpoint)
        self.message_user(request, f"{queryset.count()} endpoint(s) enabled.", messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("attempted_at", "endpoint", "message", "attempt", "outcome", "status_code", "duration_ms")
    list_filter = ("outcome", "endpoint")
    list_select_related = ("endpoint", "message")
    search_fields = ("message__event_type", "error")
    actions = ["redeliver"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in WebhookDelivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Redeliver the messages of the selected attempts")
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        for delivery in queryset.select_related("message"):
            webhook_message_redeliver(message=delivery.message)
        self.message_user(request, f"{queryset.count()} message(s) queued again.", messages.SUCCESS)
