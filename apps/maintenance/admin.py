from django.contrib import admin

from apps.maintenance.models import MaintenanceRun


@admin.register(MaintenanceRun)
class MaintenanceRunAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("started_at", "finished_at", "status", "dry_run", "pinned_snapshots")
    list_filter = ("status", "dry_run")
    readonly_fields = ("started_at", "finished_at", "status", "dry_run", "pinned_snapshots", "tables")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
