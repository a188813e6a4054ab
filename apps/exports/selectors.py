"""Reads of tenant exports, always scoped to one tenant (another tenant's export is 404)."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from apps.exports.models import TenantExport
from aurum.errors import NotFoundError
from tenants.models import Tenant


def tenant_export_list(*, tenant: Tenant) -> QuerySet[TenantExport]:
    """The tenant's exports, newest first."""
    return TenantExport.objects.filter(tenant=tenant).order_by("-requested_at", "-id")


def tenant_export_get(*, tenant: Tenant, export_id: object) -> TenantExport:
    """One export of the tenant; NotFoundError without saying whether it exists elsewhere."""
    try:
        key = uuid.UUID(str(export_id))
    except ValueError:
        raise NotFoundError("No such export.") from None
    export = tenant_export_list(tenant=tenant).filter(pk=key).first()
    if export is None:
        raise NotFoundError("No such export.")
    return export
