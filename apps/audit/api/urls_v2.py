from django.urls import path

from apps.audit.api import v2

urlpatterns = [
    path("audit", v2.AuditListV2Api.as_view(), name="audit"),
    path("audit/export", v2.AuditExportV2Api.as_view(), name="audit-export"),
]
