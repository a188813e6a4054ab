"""A record of each lakehouse maintenance pass (public schema): what it did to each table, for the admin."""

from django.db import models


class MaintenanceRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"  # at least one table's step failed (the others ran; see ``tables``)

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    dry_run = models.BooleanField(default=False)
    pinned_snapshots = models.PositiveIntegerField(
        default=0, help_text="snapshots kept because a record names them"
    )
    # identifier -> {"expired": n, "compacted_partitions": n, "files_removed": n, "files_added": n,
    #                "orphan_files": n, "orphan_bytes": n, "seconds": s, "error": "..."}
    tables = models.JSONField(default=dict)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        kind = "dry run" if self.dry_run else "pass"
        return f"lakehouse maintenance {kind} {self.started_at:%Y-%m-%d %H:%M} ({self.status})"
