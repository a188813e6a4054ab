from django.urls import path

from apps.usage.api import v2

urlpatterns = [
    path("usage", v2.UsageV2Api.as_view(), name="usage"),
]
