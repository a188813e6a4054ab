from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from aurum.errors import ConflictError, InvalidInputError
from tenants.models import Domain, Entitlement, Plan, PlanRouteLimit, Tenant
from tenants.services import (
    plan_route_limits_changed,
    tenant_create,
    tenant_create_check,
    tenant_resume,
    tenant_suspend,
)


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class EntitlementInline(admin.TabularInline):
    model = Entitlement
    extra = 0


class TenantAddForm(forms.ModelForm):
    """A new tenant's names, refused on the form when tenant_create would refuse them (an existing schema)."""

    class Meta:
        model = Tenant
        fields = ["name", "schema_name", "plan"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors:
            try:
                tenant_create_check(name=cleaned["name"], schema_name=cleaned["schema_name"])
            except (InvalidInputError, ConflictError) as refused:
                for issue in refused.issues:
                    self.add_error(issue.field if issue.field in self.fields else None, issue.message)
        return cleaned


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "schema_name", "plan", "status", "created"]
    list_filter = ["status", "plan"]
    search_fields = ["name", "schema_name"]
    inlines = [DomainInline, EntitlementInline]
    actions = ["suspend", "resume", "offboard"]

    def get_readonly_fields(self, request: HttpRequest, obj: Tenant | None = None) -> list[str]:
        return ["schema_name", "status", "created", "suspended_at"] if obj else ["status", "created"]

    def get_form(
        self, request: HttpRequest, obj: Any | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = TenantAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_inlines(self, request: HttpRequest, obj: Tenant | None) -> list[Any]:
        return list(self.inlines) if obj else []

    def save_model(self, request: HttpRequest, obj: Tenant, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        created = tenant_create(name=obj.name, schema_name=obj.schema_name, plan=obj.plan)
        obj.pk = created.pk
        obj.created = created.created
        messages.info(
            request, f"Provisioned schema '{created.schema_name}' at {created.get_primary_domain()}."
        )

    @admin.action(description="Suspend selected tenants")
    def suspend(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        for tenant in queryset:
            tenant_suspend(tenant=tenant)
        messages.success(request, f"Suspended {queryset.count()} tenant(s).")

    @admin.action(description="Offboard selected tenants (suspend, export, delete in 30 days)")
    def offboard(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        # Imported on use: the admin modules load in every process (admin autodiscovery), and the offboarding
        # services bring the whole lakehouse stack (issue 14: `manage.py` start-up).
        from apps.offboarding.services import tenant_offboard_schedule

        staff = request.user if request.user.is_authenticated else None
        for tenant in queryset:
            try:
                report = tenant_offboard_schedule(tenant=tenant, grace_days=30, staff=staff)  # type: ignore[arg-type]
            except ConflictError as refused:
                messages.error(request, refused.detail)
            else:
                messages.success(
                    request,
                    f"{tenant.name}: suspended, export queued, deleted after {report.delete_after:%Y-%m-%d}.",
                )

    @admin.action(description="Resume selected tenants")
    def resume(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        for tenant in queryset:
            tenant_resume(tenant=tenant)
        messages.success(request, f"Resumed {queryset.count()} tenant(s).")


class PlanRouteLimitInline(admin.TabularInline):
    """Per-route rate limits of the plan (decision 0026): a matching request takes from this bucket."""

    model = PlanRouteLimit
    extra = 0


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "requests_per_second",
        "burst",
        "rows_per_month",
        "concurrent_scenario_runs",
        "api_requests_per_month",
        "scenario_runs_per_month",
        "export_rows_per_month",
    ]
    inlines = [PlanRouteLimitInline]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if any(formset.has_changed() for formset in formsets):
            plan_route_limits_changed(plan=form.instance)


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "tenant", "is_primary"]
    search_fields = ["domain"]


@admin.register(Entitlement)
class EntitlementAdmin(admin.ModelAdmin):
    list_display = ["tenant", "dataset", "created"]
    list_filter = ["dataset"]
