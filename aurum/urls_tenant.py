"""URLs on a tenant's host, and for API requests whose credential resolved a tenant."""

from django.urls import include, path

from aurum.urls_shared import shared_patterns

urlpatterns = [
    *shared_patterns,
    path("", include("apps.portal.urls")),
]
