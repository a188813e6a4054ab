"""The portal's ``/settings/export/``: request an export of the whole tenant and download the finished ones
(``/api/v2/exports/<id>/download``). While an export is queued or running, htmx refreshes the table every
two seconds. Needs ``tenant:export`` (tenant admins)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from apps.accounts.roles import TENANT_EXPORT
from apps.exports.models import TenantExport
from apps.exports.selectors import tenant_export_list
from apps.exports.services import tenant_export_request
from apps.portal.access import portal_view
from aurum.api.context import RequestContext

SHOWN = 20


@require_safe
@portal_view(TENANT_EXPORT)
def export_view(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    exports = list(tenant_export_list(tenant=ctx.tenant).select_related("requested_by")[:SHOWN])
    context = {
        "exports": exports,
        "open": any(e.status in (TenantExport.Status.QUEUED, TenantExport.Status.RUNNING) for e in exports),
    }
    template = "portal/settings/_export_rows.html" if request.htmx else "portal/settings/export.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@require_POST
@portal_view(TENANT_EXPORT)
def export_request_view(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    tenant_export_request(tenant=ctx.tenant, actor=ctx.user)
    messages.success(request, "Export requested: it is prepared in the background, the table below updates.")
    return redirect("portal-export")
