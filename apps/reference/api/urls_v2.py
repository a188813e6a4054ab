from django.urls import path

from apps.reference.api import v2

urlpatterns = [
    path("metadata/locations", v2.LocationListV2Api.as_view(), name="v2-locations"),
    path(
        "metadata/locations/<str:iso>/<str:location_id>", v2.LocationDetailV2Api.as_view(), name="v2-location"
    ),
    path("metadata/units", v2.UnitsV2Api.as_view(), name="v2-units"),
    path("metadata/units/mapping", v2.UnitsMappingV2Api.as_view(), name="v2-units-mapping"),
    path("metadata/calendars", v2.CalendarListV2Api.as_view(), name="v2-calendars"),
    path("metadata/calendars/<str:name>/blocks", v2.CalendarBlocksV2Api.as_view(), name="v2-calendar-blocks"),
    path("metadata/calendars/<str:name>/hours", v2.CalendarHoursV2Api.as_view(), name="v2-calendar-hours"),
    path("metadata/calendars/<str:name>/expand", v2.CalendarExpandV2Api.as_view(), name="v2-calendar-expand"),
]
