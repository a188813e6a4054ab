from django.urls import path

from apps.ingestion.api.lineage import CurveLineageApi
from apps.ingestion.api.views import IngestRunDetailApi, IngestRunListCreateApi

urlpatterns = [
    path("ingest/runs", IngestRunListCreateApi.as_view(), name="ingest-run-list"),
    path("ingest/runs/<int:run_id>", IngestRunDetailApi.as_view(), name="ingest-run-detail"),
    # Where a published number came from: the ingest's record of the point (the run, file and cell).
    path("curves/<str:curve_key>/lineage", CurveLineageApi.as_view(), name="curve-lineage"),
]
