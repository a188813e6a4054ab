"""Routes every host serves: health, metrics (platform host or allow-list only), the APIs and their docs.

The v1 API is served twice: under ``/api/v1/`` (Aurum's layout) and at the original Aurum's own paths
(``/v1/...``, with ``/health`` and ``/ready`` and their aliases), so integrators of the original keep their
URLs. Both prefixes reach the same views.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerView

from aurum import original_paths
from aurum.api.schema_view import OpenApiSchemaView
from aurum.health import views as health

V1_URLCONFS = (
    "apps.reference.api.urls",
    "apps.curves.api.urls_v1",
    "apps.ppa.api.urls_v1",
    "apps.scenarios.api.urls_v1",
    "apps.feeds.api.urls_v1",
)

shared_patterns = [
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    *(path(p, health.live, name=f"original-{p}") for p in original_paths.LIVE_PROBES),
    *(path(p, health.ready, name=f"original-{p}") for p in original_paths.READY_PROBES),
    path("metrics", health.metrics, name="metrics"),
    path("api/v2/", include("apps.accounts.api.urls")),
    path("api/v2/", include("apps.ingestion.api.urls")),
    path("api/v2/", include("apps.curves.api.urls")),
    path("api/v2/", include("apps.reference.api.urls_v2")),
    path("api/v2/", include("apps.ppa.api.urls_v2")),
    path("api/v2/", include("apps.scenarios.api.urls_v2")),
    path("api/v2/", include("apps.watchlists.api.urls_v2")),
    path("api/v2/", include("apps.webhooks.api.urls_v2")),
    path("api/v2/", include("apps.feeds.api.urls_v2")),
    path("api/v2/", include("apps.datasets.api.urls_v2")),
    # The original's paths first: reverse() names the last pattern of a name, so links stay under /api/v1.
    *(path("v1/", include(urlconf)) for urlconf in V1_URLCONFS),
    *(path("api/v1/", include(urlconf)) for urlconf in V1_URLCONFS),
    path("api/v2/", include("apps.usage.api.urls_v2")),
    path("api/v2/", include("apps.audit.api.urls_v2")),
    path("api/v2/", include("apps.exports.api.urls_v2")),
    path("api/v2/schema/", OpenApiSchemaView.as_view(), name="api-v2-schema"),
    path("api/v2/docs/", SpectacularSwaggerView.as_view(url_name="api-v2-schema"), name="api-v2-docs"),
]
