"""Routes every host serves: health, metrics (platform host or allow-list only), the APIs and their docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from aurum.health import views as health

shared_patterns = [
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("metrics", health.metrics, name="metrics"),
    path("api/v2/", include("apps.accounts.api.urls")),
    path("api/v2/", include("apps.ingestion.api.urls")),
    path("api/v2/", include("apps.curves.api.urls")),
    path("api/v1/", include("apps.reference.api.urls")),
    path("api/v1/", include("apps.curves.api.urls_v1")),
    path("api/v2/", include("apps.reference.api.urls_v2")),
    path("api/v1/", include("apps.ppa.api.urls_v1")),
    path("api/v2/", include("apps.ppa.api.urls_v2")),
    path("api/v1/", include("apps.scenarios.api.urls_v1")),
    path("api/v2/", include("apps.scenarios.api.urls_v2")),
    path("api/v2/", include("apps.watchlists.api.urls_v2")),
    path("api/v2/", include("apps.audit.api.urls_v2")),
    path("api/v2/schema/", SpectacularAPIView.as_view(), name="api-v2-schema"),
    path("api/v2/docs/", SpectacularSwaggerView.as_view(url_name="api-v2-schema"), name="api-v2-docs"),
]
