from django.urls import path

from apps.reference.api import views

urlpatterns = [
    path("metadata/locations", views.LocationListApi.as_view(), name="v1-locations"),
    path(
        "metadata/locations/<str:iso>/<str:location_id>",
        views.LocationDetailApi.as_view(),
        name="v1-location",
    ),
    path("metadata/units", views.UnitsApi.as_view(), name="v1-units"),
    path("metadata/units/mapping", views.UnitsMappingApi.as_view(), name="v1-units-mapping"),
    path("metadata/calendars", views.CalendarListApi.as_view(), name="v1-calendars"),
    path(
        "metadata/calendars/<str:name>/blocks", views.CalendarBlocksApi.as_view(), name="v1-calendar-blocks"
    ),
    path("metadata/calendars/<str:name>/hours", views.CalendarHoursApi.as_view(), name="v1-calendar-hours"),
    path(
        "metadata/calendars/<str:name>/expand", views.CalendarExpandApi.as_view(), name="v1-calendar-expand"
    ),
]
