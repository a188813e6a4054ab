from django.urls import path

from apps.ingestion.api import quarantine
from apps.ingestion.api.lineage import CurveLineageApi
from apps.ingestion.api.views import IngestRunDetailApi, IngestRunListCreateApi

urlpatterns = [
    path("ingest/runs", IngestRunListCreateApi.as_view(), name="ingest-run-list"),
    path("ingest/runs/<int:run_id>", IngestRunDetailApi.as_view(), name="ingest-run-detail"),
    # Quarantine review of vendor rows (the operators'; decision 0041). The bulk routes before the row's.
    path("ingest/quarantine", quarantine.VendorQuarantineListV2Api.as_view(), name="ingest-quarantine"),
    path(
        "ingest/quarantine/release",
        quarantine.VendorQuarantineBulkReleaseV2Api.as_view(),
        name="ingest-quarantine-bulk-release",
    ),
    path(
        "ingest/quarantine/reject",
        quarantine.VendorQuarantineBulkRejectV2Api.as_view(),
        name="ingest-quarantine-bulk-reject",
    ),
    path(
        "ingest/quarantine/<int:row_id>/release",
        quarantine.VendorQuarantineReleaseV2Api.as_view(),
        name="ingest-quarantine-release",
    ),
    path(
        "ingest/quarantine/<int:row_id>/reject",
        quarantine.VendorQuarantineRejectV2Api.as_view(),
        name="ingest-quarantine-reject",
    ),
    # Where a published number came from: the ingest's record of the point (the run, file and cell).
    path("curves/<str:curve_key>/lineage", CurveLineageApi.as_view(), name="curve-lineage"),
]
