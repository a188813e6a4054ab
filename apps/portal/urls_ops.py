"""The operations pages: ingestion (upload, runs, quarantine) and settings (tokens, members, invitations)."""

from django.urls import path

from apps.portal.ingestion import (
    ingestion_quarantine_view,
    ingestion_run_view,
    ingestion_upload_view,
    ingestion_view,
)

urlpatterns = [
    path("ingestion/", ingestion_view, name="portal-ingestion"),
    path("ingestion/upload/", ingestion_upload_view, name="portal-ingestion-upload"),
    path("ingestion/runs/<int:run_id>/", ingestion_run_view, name="portal-ingestion-run"),
    path(
        "ingestion/runs/<int:run_id>/quarantine/",
        ingestion_quarantine_view,
        name="portal-ingestion-quarantine",
    ),
]
