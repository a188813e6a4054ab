from django.urls import path

from apps.exports.api import v2

urlpatterns = [
    path("exports", v2.TenantExportListV2Api.as_view(), name="exports"),
    path("exports/<str:export_id>", v2.TenantExportDetailV2Api.as_view(), name="export-detail"),
    path("exports/<str:export_id>/download", v2.TenantExportDownloadV2Api.as_view(), name="export-download"),
]
