from django.contrib import admin

from apps.curves.models import Curve


@admin.register(Curve)
class CurveAdmin(admin.ModelAdmin):
    list_display = [
        "curve_key",
        "vendor",
        "iso",
        "location",
        "product",
        "block",
        "commodity",
        "last_asof",
        "tenor_count",
    ]
    list_filter = ["dataset", "commodity", "iso"]
    search_fields = ["curve_key", "location", "product"]
    readonly_fields = [f.name for f in Curve._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False
