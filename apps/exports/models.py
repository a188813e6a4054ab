"""Tenant exports (public schema): a whole tenant's data as one archive, written by a Celery task.

Public, not per tenant: offboarding keeps a deleted tenant's last export (and its row) after the schema is
gone; every read is scoped to a tenant by ``apps.exports.selectors``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class TenantExport(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Reason(models.TextChoices):
        REQUEST = "request", "Requested by an admin"
        OFFBOARDING = "offboarding", "Offboarding"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(
        "tenants.Tenant", null=True, blank=True, on_delete=models.SET_NULL, related_name="exports"
    )
    schema_name = models.CharField(max_length=63)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    reason = models.CharField(max_length=16, choices=Reason.choices, default=Reason.REQUEST)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    file_path = models.CharField(max_length=500, blank=True, default="")
    size = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-requested_at"], name="export_tenant_recent")]

    def __str__(self) -> str:
        return f"export {self.id} of {self.schema_name} ({self.status})"
