"""The operations pages: ingestion (upload, runs, quarantine) and settings (tokens, members, invitations,
the audit log)."""

from django.urls import path

from apps.portal.audit_page import audit_view
from apps.portal.ingestion import (
    ingestion_quarantine_view,
    ingestion_run_view,
    ingestion_upload_view,
    ingestion_view,
)
from apps.portal.invitations import invitation_accept_view
from apps.portal.settings_pages import (
    invitation_revoke_view,
    member_invite_view,
    member_remove_view,
    member_role_view,
    settings_view,
    token_create_view,
    token_revoke_view,
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
urlpatterns += [
    path("settings/", settings_view, name="portal-settings"),
    path("settings/audit/", audit_view, name="portal-audit"),
    path("settings/tokens/", token_create_view, name="portal-token-create"),
    path("settings/tokens/<int:token_id>/revoke/", token_revoke_view, name="portal-token-revoke"),
    path("settings/members/invite/", member_invite_view, name="portal-member-invite"),
    path("settings/members/<int:membership_id>/role/", member_role_view, name="portal-member-role"),
    path("settings/members/<int:membership_id>/remove/", member_remove_view, name="portal-member-remove"),
    path(
        "settings/invitations/<int:invitation_id>/revoke/",
        invitation_revoke_view,
        name="portal-invitation-revoke",
    ),
    path("invitations/<str:token>/", invitation_accept_view, name="portal-invitation-accept"),
]
