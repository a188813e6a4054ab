"""URLs on a tenant's host, and for API requests whose credential resolved a tenant."""

from django.urls import include, path

from aurum.urls_shared import shared_patterns

urlpatterns = [
    *shared_patterns,
    path("", include("apps.portal.urls")),
]

# API paths answer problem bodies, portal paths an error page; never Django's debug page or a traceback.
handler400 = "aurum.api.problems.api_bad_request"
handler403 = "aurum.api.problems.api_forbidden"
handler404 = "aurum.api.problems.api_not_found"
handler500 = "aurum.api.problems.api_server_error"
