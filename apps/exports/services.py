"""Writes of tenant exports: the request (queued, audited, its task sent after commit), the run in a worker,
and the record of a download. The archive's contents: ``apps.exports.archive``."""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO, cast

import pyarrow.fs as pafs
import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.context import AuditActor, audit_actor_as
from apps.audit.services import audit_append
from apps.exports.archive import archive_write, file_sha256
from apps.exports.models import TenantExport
from aurum.celery import app as celery_app
from aurum.errors import ConflictError, GoneError
from aurum.lakehouse.locks import advisory_xact_lock
from aurum.lakehouse.storage import filesystem_for
from tenants.models import Tenant

log = structlog.get_logger(__name__)

EXPORT_TASK = "exports.tenant_export"
OPEN = (TenantExport.Status.QUEUED, TenantExport.Status.RUNNING)


def export_dir() -> Path:
    return Path(settings.AURUM_EXPORT_DIR)


def tenant_export_request(
    *,
    tenant: Tenant,
    actor: User | None,
    reason: str = TenantExport.Reason.REQUEST,
    audit_actor: AuditActor | None = None,
) -> TenantExport:
    """Queue an export of the whole tenant; its task starts after commit. ConflictError while another
    export of the tenant is queued or running (one at a time per tenant)."""
    with transaction.atomic():
        advisory_xact_lock(f"tenant-export:{tenant.schema_name}")
        if TenantExport.objects.filter(tenant=tenant, status__in=OPEN).exists():
            raise ConflictError(
                "An export of this tenant is already queued or running; wait for it to finish.",
                slug="export-in-progress",
            )
        export = TenantExport.objects.create(
            tenant=tenant, schema_name=tenant.schema_name, requested_by=actor, reason=reason
        )
        audit_append(
            action="tenant.export.request",
            resource_type="tenant_export",
            resource_id=export.pk,
            changes={"reason": reason},
            actor=audit_actor,
            schema_name=tenant.schema_name,
        )
        export_id = str(export.pk)
        transaction.on_commit(lambda: celery_app.send_task(EXPORT_TASK, args=[export_id]))
    return export


def tenant_export_run(*, export_id: str) -> TenantExport:
    """Write the archive of a queued export (the worker's task). A failure marks it failed with the error
    and removes partial files; it is never retried (an admin asks again)."""
    with transaction.atomic():
        export = (
            TenantExport.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=export_id)
        )
        if export.status != TenantExport.Status.QUEUED or export.tenant is None:
            return export  # a redelivered message, or the tenant is gone
        export.status = TenantExport.Status.RUNNING
        export.started_at = timezone.now()
        export.save(update_fields=["status", "started_at"])
    tenant = export.tenant
    folder = export_dir() / tenant.schema_name
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{tenant.schema_name}-{timezone.now():%Y%m%dT%H%M%SZ}-{export.pk}.zip"
    work = Path(tempfile.mkdtemp(prefix=f"export-{export.pk}-", dir=folder))
    try:
        archive_write(tenant=tenant, work=work, target=target)
        size, sha256 = target.stat().st_size, file_sha256(target)
        stored = _store(target, schema_name=tenant.schema_name)
    except Exception as error:  # any failure is recorded on the export, then re-raised for the worker log
        target.unlink(missing_ok=True)
        export.status = TenantExport.Status.FAILED
        export.error = f"{type(error).__name__}: {error}"[:2000]
        export.finished_at = timezone.now()
        export.save(update_fields=["status", "error", "finished_at"])
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    now = timezone.now()
    export.status = TenantExport.Status.SUCCEEDED
    export.file_path = stored
    export.size, export.sha256 = size, sha256
    export.finished_at = now
    export.expires_at = now + timedelta(days=settings.AURUM_EXPORT_DAYS)
    with transaction.atomic():
        export.save(update_fields=["status", "file_path", "size", "sha256", "finished_at", "expires_at"])
        with audit_actor_as(AuditActor(kind="system", display="system")):
            audit_append(
                action="tenant.export.complete",
                resource_type="tenant_export",
                resource_id=export.pk,
                changes={"sha256": export.sha256, "size": export.size},
                schema_name=tenant.schema_name,
            )
    log.info("tenant export written", tenant=tenant.schema_name, export=str(export.pk), size=export.size)
    return export


def _store(archive: Path, *, schema_name: str) -> str:
    """Move the finished archive into the warehouse (``exports/<schema>/``: a folder or the S3 bucket, so any
    web process can serve it); its URI."""
    uri = f"{settings.AURUM_WAREHOUSE.rstrip('/')}/exports/{schema_name}/{archive.name}"
    filesystem, path = filesystem_for(uri)
    filesystem.create_dir(path.rpartition("/")[0], recursive=True)
    with archive.open("rb") as source, filesystem.open_output_stream(path) as target:
        shutil.copyfileobj(source, target, length=1 << 20)
    archive.unlink()
    return uri


def _exists(location: str) -> bool:
    filesystem, path = filesystem_for(location)
    return bool(filesystem.get_file_info(path).type == pafs.FileType.File)


def export_file_open(location: str) -> BinaryIO:
    """The stored archive for reading (a warehouse URI, or a local path of an export made before 0040)."""
    filesystem, path = filesystem_for(location)
    return cast(BinaryIO, filesystem.open_input_file(path))


def tenant_export_download_open(*, export: TenantExport) -> str:
    """Record the download of a finished export in the tenant's ledger and give its file: ConflictError
    while it is not finished, GoneError once it expired or its file is gone."""
    if export.status != TenantExport.Status.SUCCEEDED:
        raise ConflictError(
            f"The export is {export.status}: nothing to download yet.", slug="export-not-ready"
        )
    if (
        (export.expires_at and export.expires_at <= timezone.now())
        or not export.file_path
        or not _exists(export.file_path)
    ):
        raise GoneError("The export has expired; request a new one.", slug="export-expired")
    with transaction.atomic():
        audit_append(
            action="tenant.export.download",
            resource_type="tenant_export",
            resource_id=export.pk,
            changes={"sha256": export.sha256},
            schema_name=export.schema_name,
        )
    return export.file_path


def tenant_export_prune(*, now: datetime | None = None) -> int:
    """Delete the files of expired exports (the rows stay, their download answers 410); the number removed."""
    now = now or timezone.now()
    removed = 0
    expired = TenantExport.objects.filter(expires_at__lte=now).exclude(file_path="")
    for export in expired.iterator():
        filesystem, path = filesystem_for(export.file_path)
        if filesystem.get_file_info(path).type == pafs.FileType.File:
            filesystem.delete_file(path)
        TenantExport.objects.filter(pk=export.pk).update(file_path="")
        removed += 1
    return removed
