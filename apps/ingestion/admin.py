from django.contrib import admin

from apps.ingestion.models import IngestRun


@admin.register(IngestRun)
class IngestRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "file_name",
        "dataset",
        "asof_date",
        "file_stamp",
        "status",
        "rows_published",
        "rows_quarantined",
        "source",
        "created",
    ]
    list_filter = ["status", "dataset", "source"]
    search_fields = ["file_name", "sha256"]
    readonly_fields = [f.name for f in IngestRun._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False
