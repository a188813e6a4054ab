from django.urls import path

from apps.ingestion.api.views import IngestRunDetailApi, IngestRunListCreateApi

urlpatterns = [
    path("ingest/runs", IngestRunListCreateApi.as_view(), name="ingest-run-list"),
    path("ingest/runs/<int:run_id>", IngestRunDetailApi.as_view(), name="ingest-run-detail"),
]
