"""Offboarding a tenant: suspend, export, and delete once the grace period has passed (platform staff, from
the admin or ``manage.py tenant_offboard``; the beat task deletes what is due). The deletion drops the
schema, the lakehouse namespace (tables and files) and the tenant's public rows, and keeps a report."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.services import audit_append
from apps.exports.models import TenantExport
from apps.exports.services import tenant_export_request
from apps.offboarding.erasure import actor_for_staff
from apps.offboarding.lakehouse import namespace_remove
from apps.offboarding.models import OffboardingReport
from aurum.errors import ConflictError, InvalidInputError
from aurum.events.models import OutboxEvent
from aurum.lakehouse.locks import advisory_xact_lock
from tenants.models import Tenant
from tenants.services import tenant_suspend

log = structlog.get_logger(__name__)

PROTECTED_SCHEMAS = frozenset({"public"})


def tenant_offboard_schedule(*, tenant: Tenant, grace_days: int, staff: User | None) -> OffboardingReport:
    """Suspend the tenant (its requests answer 403 from now on), queue its final export and schedule its
    deletion at now + ``grace_days``. ConflictError when it is already scheduled."""
    if grace_days < 0:
        raise InvalidInputError.field("grace_days", "The grace period is 0 days or more.")
    if tenant.schema_name in PROTECTED_SCHEMAS or tenant.is_operator:
        raise ConflictError(f"{tenant.name} is the platform's own tenant and cannot be offboarded.")
    with transaction.atomic():
        advisory_xact_lock(f"offboarding:{tenant.schema_name}")
        if OffboardingReport.objects.filter(
            tenant=tenant, status=OffboardingReport.Status.SCHEDULED
        ).exists():
            raise ConflictError(
                f"{tenant.name} is already scheduled for deletion.", slug="offboarding-scheduled"
            )
        tenant_suspend(tenant=tenant)
        actor = actor_for_staff(staff) if staff else None
        export = tenant_export_request(
            tenant=tenant, actor=staff, reason=TenantExport.Reason.OFFBOARDING, audit_actor=actor
        )
        report = OffboardingReport.objects.create(
            tenant=tenant,
            schema_name=tenant.schema_name,
            tenant_name=tenant.name,
            requested_by=staff,
            delete_after=timezone.now() + timedelta(days=grace_days),
            export=export,
        )
        audit_append(
            action="tenant.offboard.schedule",
            resource_type="tenant",
            resource_id=tenant.schema_name,
            changes={"delete_after": report.delete_after, "export": export.pk},
            actor=actor,
            schema_name=tenant.schema_name,
        )
    return report


def _schema_tables(schema_name: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY 1",
            [schema_name],
        )
        return [row[0] for row in cursor.fetchall()]


def tenant_offboard_execute(*, report: OffboardingReport, now: Any = None) -> OffboardingReport:
    """Delete a scheduled tenant whose grace period has passed: its lakehouse namespace (tables, files),
    then in one transaction its schema and public rows (memberships and their tokens, invitations,
    domains, entitlements, usage, outbox events). ConflictError, nothing removed, unless the tenant is
    suspended and ``delete_after`` has passed."""
    now = now or timezone.now()
    tenant = report.tenant
    if report.status != OffboardingReport.Status.SCHEDULED or tenant is None:
        raise ConflictError(f"The offboarding of {report.schema_name} is {report.status}, not scheduled.")
    tenant.refresh_from_db()
    if tenant.status != Tenant.Status.SUSPENDED:
        raise ConflictError(
            f"{tenant.name} is not suspended: resume or suspend it first, nothing was deleted."
        )
    if report.delete_after > now:
        raise ConflictError(
            f"{tenant.name}'s grace period lasts until {report.delete_after:%Y-%m-%d %H:%M} UTC; nothing was"
            " deleted."
        )
    schema_name = tenant.schema_name
    lakehouse = namespace_remove(namespace=tenant.lakehouse_namespace, schema_name=schema_name)
    with transaction.atomic():
        tables = _schema_tables(schema_name)
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA "{schema_name}" CASCADE')
        events, _ = OutboxEvent.objects.filter(tenant_schema=schema_name).delete()
        _, rows = Tenant.objects.filter(pk=tenant.pk).delete()
        report.status = OffboardingReport.Status.DELETED
        report.deleted_at = timezone.now()
        report.report = {
            "schema": {"name": schema_name, "dropped": True, "tables": tables},
            "lakehouse": lakehouse,
            "public_rows": {**dict(sorted(rows.items())), "events.OutboxEvent": events},
            "export": str(report.export_id) if report.export_id else None,
        }
        report.save(update_fields=["status", "deleted_at", "report"])
    log.info("tenant deleted", tenant=schema_name, tables=len(tables), files=lakehouse["files_removed"])
    return report


def tenant_offboard_due() -> list[OffboardingReport]:
    """Delete every scheduled tenant whose grace has passed (the beat task); the reports of those deleted.
    One that refuses (resumed meanwhile) is logged and left scheduled."""
    done = []
    due = OffboardingReport.objects.filter(
        status=OffboardingReport.Status.SCHEDULED, delete_after__lte=timezone.now()
    ).select_related("tenant")
    for report in due:
        try:
            done.append(tenant_offboard_execute(report=report))
        except ConflictError as refused:
            log.warning("offboarding not executed", tenant=report.schema_name, reason=refused.detail)
    return done
