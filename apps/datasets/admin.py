from django.contrib import admin

from apps.datasets.models import Backfill, BackfillWindow, DatasetDayState


class ReadOnly(admin.ModelAdmin):
    """Written by the freshness evaluation and the backfill services; operators act through the API."""

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(DatasetDayState)
class DatasetDayStateAdmin(ReadOnly):
    list_display = [
        "dataset",
        "publication_day",
        "period_start",
        "status",
        "due_at",
        "late_at",
        "recovered_at",
    ]
    list_filter = ["status", "dataset"]


class WindowInline(admin.TabularInline):
    model = BackfillWindow
    extra = 0
    fields = ("window_start", "window_end", "status", "attempts", "error_code", "source_file")
    readonly_fields = fields
    can_delete = False


@admin.register(Backfill)
class BackfillAdmin(ReadOnly):
    list_display = ["id", "dataset", "first_day", "last_day", "status", "created", "finished_at"]
    list_filter = ["status", "dataset"]
    inlines = [WindowInline]
