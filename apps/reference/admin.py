"""Reference data in the platform admin: browse and search only.

The rows come from the catalog files (``manage.py load_reference``); an edit here would bypass the file
checks, miss the units cache and be overwritten by the next load, so the admin does not offer one.
"""

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from apps.reference.models import (
    Block,
    Calendar,
    CalendarBlock,
    CalendarHoliday,
    Iso,
    IsoDataSource,
    IsoNode,
    Market,
    Product,
    UnitMapping,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(UnitMapping)
class UnitMappingAdmin(ReadOnlyAdmin):
    list_display = ["units_raw", "units_key", "currency", "per_unit"]
    list_filter = ["currency", "per_unit"]
    search_fields = ["units_raw", "units_key"]


class CalendarHolidayInline(ReadOnlyInline):
    model = CalendarHoliday


class CalendarBlockInline(ReadOnlyInline):
    model = CalendarBlock


@admin.register(Calendar)
class CalendarAdmin(ReadOnlyAdmin):
    list_display = ["name", "timezone"]
    list_filter = ["timezone"]
    search_fields = ["name"]
    inlines = [CalendarBlockInline, CalendarHolidayInline]


@admin.register(CalendarHoliday)
class CalendarHolidayAdmin(ReadOnlyAdmin):
    list_display = ["calendar", "date"]
    list_filter = ["calendar"]
    date_hierarchy = "date"


@admin.register(CalendarBlock)
class CalendarBlockAdmin(ReadOnlyAdmin):
    list_display = ["calendar", "block", "rules"]
    list_filter = ["calendar", "block"]
    search_fields = ["block"]


@admin.register(Iso)
class IsoAdmin(ReadOnlyAdmin):
    list_display = ["iso_code", "iso_name", "country", "region", "default_timezone", "timezone_offsets"]
    list_filter = ["country", "region"]
    search_fields = ["iso_code", "iso_name"]


@admin.register(IsoDataSource)
class IsoDataSourceAdmin(ReadOnlyAdmin):
    list_display = ["iso", "full_name", "region", "api_format", "authentication", "requests_per_minute"]
    list_filter = [
        "api_format",
        "authentication",
        "api_key_required",
        "price_nodes_available",
        "ancillary_services_available",
    ]
    search_fields = ["iso__iso_code", "full_name", "region", "base_url"]
    list_select_related = ["iso"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Market)
class MarketAdmin(ReadOnlyAdmin):
    list_display = [
        "iso",
        "market_code",
        "market_name",
        "market_category",
        "settlement_interval_minutes",
        "timezone_override",
    ]
    list_filter = ["iso", "market_code", "market_category", "settlement_interval_minutes"]
    search_fields = ["iso__iso_code", "market_code", "market_name"]
    list_select_related = ["iso"]


@admin.register(IsoNode)
class IsoNodeAdmin(ReadOnlyAdmin):
    list_display = ["iso", "location_id", "location_name", "location_type", "zone", "hub", "timezone"]
    list_filter = ["iso", "location_type", "timezone"]
    search_fields = ["location_id", "location_name", "zone", "hub"]
    list_select_related = ["iso"]


@admin.register(Block)
class BlockAdmin(ReadOnlyAdmin):
    list_display = ["block_code", "block_name", "start_hour", "end_hour", "total_hours"]
    search_fields = ["block_code", "block_name", "description"]


@admin.register(Product)
class ProductAdmin(ReadOnlyAdmin):
    list_display = ["product_code", "product_name", "tenor_type", "commodity", "unit"]
    list_filter = ["tenor_type", "commodity"]
    search_fields = ["product_code", "product_name", "description"]
