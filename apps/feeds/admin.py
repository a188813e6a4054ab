from django.contrib import admin

from apps.feeds.models import EiaDataset, FeedQuarantineRow, FetchRun, Series, SeriesCurveMapping, Watermark


class ReadOnly(admin.ModelAdmin):
    """Written by fetches and the catalog load, read by operators."""

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(FetchRun)
class FetchRunAdmin(ReadOnly):
    list_display = ["id", "provider", "dataset", "window_start", "window_end", "status", "rows", "error_code"]
    list_filter = ["provider", "status", "error_code"]
    search_fields = ["dataset", "error"]


@admin.register(Watermark)
class WatermarkAdmin(ReadOnly):
    list_display = ["provider", "dataset", "fetched_until", "last_run", "updated_at"]
    list_filter = ["provider"]


@admin.register(Series)
class SeriesAdmin(ReadOnly):
    list_display = ["provider", "series_id", "title", "unit_code", "frequency_code", "updated_at"]
    list_filter = ["provider", "frequency_code"]
    search_fields = ["series_id", "title"]


@admin.register(EiaDataset)
class EiaDatasetAdmin(ReadOnly):
    list_display = ["path", "name", "default_frequency", "start_period", "end_period"]
    search_fields = ["path", "name"]


@admin.register(FeedQuarantineRow)
class FeedQuarantineRowAdmin(ReadOnly):
    list_display = ["id", "provider", "dataset", "window_start", "reasons", "fetch_run"]
    list_filter = ["provider", "dataset"]


@admin.register(SeriesCurveMapping)
class SeriesCurveMappingAdmin(ReadOnly):
    """Changed through the API (audited), read here."""

    list_display = ["external_provider", "external_series_id", "curve_key", "mapping_confidence", "is_active"]
    list_filter = ["external_provider", "mapping_method", "is_active"]
    search_fields = ["external_series_id", "curve_key"]
