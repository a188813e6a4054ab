"""Verification over tenants: the nightly beat task and ``manage.py audit_verify`` share it."""

from __future__ import annotations

import structlog
from django_tenants.utils import tenant_context

from apps.audit.services import audit_verify_and_alert
from apps.audit.verification import ChainReport
from tenants.models import Tenant

log = structlog.get_logger(__name__)


def audit_verify_tenant(*, tenant: Tenant) -> ChainReport:
    """Verify one tenant's chain (alerting when broken)."""
    with tenant_context(tenant):
        return audit_verify_and_alert(schema_name=tenant.schema_name)


def audit_verify_tenants(*, schema_name: str | None = None) -> dict[str, ChainReport]:
    """Verify every active tenant's chain (or only ``schema_name``'s, active or not), by schema."""
    tenants = Tenant.objects.order_by("schema_name")
    tenants = (
        tenants.filter(schema_name=schema_name)
        if schema_name
        else tenants.filter(status=Tenant.Status.ACTIVE)
    )
    return {tenant.schema_name: audit_verify_tenant(tenant=tenant) for tenant in tenants}
