"""Django admin for webhook endpoints and their delivery log. The admin runs on the platform host (public
schema) and these rows live in each tenant's schema: the lists show one tenant at a time (``?tenant=<name>``,
remembered in the session; the first active tenant by default) and are rendered inside its schema. Lists
and actions only (enable, redeliver): actions call the services; nothing here writes rows itself."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django_tenants.utils import schema_context

from apps.webhooks.models import WebhookDelivery, WebhookEndpoint
from apps.webhooks.services.endpoints import webhook_endpoint_enable
from apps.webhooks.services.messages import webhook_message_redeliver
from tenants.models import Tenant

TENANT_PARAM = "tenant"
SESSION_KEY = "webhooks_admin_tenant"


class TenantSchemaAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """A list of a tenant-schema model: rendered in the chosen tenant's schema."""

    list_display_links = None

    def _tenant(self, request: HttpRequest) -> str | None:
        active = list(
            Tenant.objects.filter(status=Tenant.Status.ACTIVE)
            .order_by("schema_name")
            .values_list("schema_name", flat=True)
        )
        chosen = request.GET.get(TENANT_PARAM) or request.session.get(SESSION_KEY)
        schema = chosen if chosen in active else (active[0] if active else None)
        request.session[SESSION_KEY] = schema
        return schema

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        schema = self._tenant(request)
        if TENANT_PARAM in request.GET:
            query = request.GET.copy()
            query.pop(TENANT_PARAM)
            request.GET = query  # type: ignore[assignment]  # the admin validates every other parameter
        context = {**(extra_context or {}), "title": f"{self.model._meta.verbose_name_plural} of {schema}"}
        with schema_context(schema or "public"):
            response = super().changelist_view(request, extra_context=context)
            if isinstance(response, TemplateResponse):
                response.render()  # inside the schema: the list's queries run here
        return response

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        changelist = [url for url in super().get_urls() if url.name and url.name.endswith("_changelist")]
        return changelist


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(TenantSchemaAdmin):
    list_display = ("url", "description", "is_enabled", "consecutive_failures", "sequence", "created_at")
    list_filter = ("is_enabled",)
    search_fields = ("url", "description")
    exclude = ("secret", "previous_secret")  # never shown after creation
    actions = ["enable"]

    @admin.action(description="Enable the selected endpoints (deliver what they hold)")
    def enable(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            webhook_endpoint_enable(endpoint=endpoint)
        self.message_user(request, f"{queryset.count()} endpoint(s) enabled.", messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(TenantSchemaAdmin):
    list_display = ("attempted_at", "endpoint", "message", "attempt", "outcome", "status_code", "duration_ms")
    list_filter = ("outcome", "endpoint")
    list_select_related = ("endpoint", "message")
    search_fields = ("message__event_type", "error")
    actions = ["redeliver"]

    @admin.action(description="Redeliver the messages of the selected attempts")
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        for delivery in queryset.select_related("message"):
            webhook_message_redeliver(message=delivery.message)
        self.message_user(request, f"{queryset.count()} message(s) queued again.", messages.SUCCESS)
