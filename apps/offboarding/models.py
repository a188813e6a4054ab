"""Offboarding of a tenant (public schema): suspended, exported, then deleted once its grace period ends.
The row outlives the tenant and keeps the removal report (visible in the admin)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class OffboardingReport(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        DELETED = "deleted", "Deleted"
        CANCELLED = "cancelled", "Cancelled"

    tenant = models.ForeignKey(
        "tenants.Tenant", null=True, blank=True, on_delete=models.SET_NULL, related_name="offboardings"
    )
    schema_name = models.CharField(max_length=63)
    tenant_name = models.CharField(max_length=100)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scheduled_at = models.DateTimeField(auto_now_add=True)
    delete_after = models.DateTimeField()
    deleted_at = models.DateTimeField(null=True, blank=True)
    export = models.ForeignKey(
        "exports.TenantExport", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the deletion removed: schema, Iceberg tables, files and bytes, public rows per table.
    report = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-scheduled_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"], condition=models.Q(status="scheduled"), name="offboarding_one_scheduled"
            )
        ]

    def __str__(self) -> str:
        return f"offboarding of {self.schema_name} ({self.status})"
