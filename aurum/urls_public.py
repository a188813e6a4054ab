"""URLs on the platform host (public schema): the Django admin, plus what every host serves."""

from django.contrib import admin
from django.urls import path

from aurum.urls_shared import shared_patterns

admin.site.site_header = "Aurum platform administration"
admin.site.site_title = "Aurum admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    *shared_patterns,
]

# API paths answer problem bodies, portal paths an error page; never Django's debug page or a traceback.
handler400 = "aurum.api.problems.api_bad_request"
handler403 = "aurum.api.problems.api_forbidden"
handler404 = "aurum.api.problems.api_not_found"
handler500 = "aurum.api.problems.api_server_error"
