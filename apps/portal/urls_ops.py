"""The operations pages: ingestion (upload, runs, quarantine) and settings (tokens, members, invitations,
the audit log, webhooks, single sign-on)."""

from django.urls import path

from apps.portal.audit_page import audit_view
from apps.portal.export_page import export_request_view, export_view
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
from apps.portal.sso.settings_page import (
    sso_issuer_check_view,
    sso_settings_save_view,
    sso_settings_view,
)
from apps.portal.webhooks.views import (
    webhook_create_view,
    webhook_delete_view,
    webhook_detail_view,
    webhook_enable_view,
    webhook_ping_view,
    webhook_redeliver_view,
    webhook_rotate_view,
    webhook_update_view,
    webhooks_view,
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
    path("settings/export/", export_view, name="portal-export"),
    path("settings/export/request/", export_request_view, name="portal-export-request"),
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
    path("settings/sso/", sso_settings_view, name="portal-sso-settings"),
    path("settings/sso/save/", sso_settings_save_view, name="portal-sso-settings-save"),
    path("settings/sso/check/", sso_issuer_check_view, name="portal-sso-issuer-check"),
]
WEBHOOK = "settings/webhooks/<str:endpoint_id>/"
urlpatterns += [
    path("settings/webhooks/", webhooks_view, name="portal-webhooks"),
    path("settings/webhooks/create/", webhook_create_view, name="portal-webhook-create"),
    path(WEBHOOK, webhook_detail_view, name="portal-webhook"),
    path(f"{WEBHOOK}edit/", webhook_update_view, name="portal-webhook-edit"),
    path(f"{WEBHOOK}rotate-secret/", webhook_rotate_view, name="portal-webhook-rotate"),
    path(f"{WEBHOOK}ping/", webhook_ping_view, name="portal-webhook-ping"),
    path(f"{WEBHOOK}enable/", webhook_enable_view, name="portal-webhook-enable"),
    path(f"{WEBHOOK}delete/", webhook_delete_view, name="portal-webhook-delete"),
    path(
        f"{WEBHOOK}deliveries/<int:delivery_id>/redeliver/",
        webhook_redeliver_view,
        name="portal-webhook-redeliver",
    ),
]
