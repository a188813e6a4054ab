"""Ingest runs (public schema): one per workbook received, with its lineage and what each stage did.

For one (dataset, as-of) the workbook with the latest file stamp, then the later upload, owns the slice
(decision 0013): a run that loses is ``superseded`` and changes no table.
"""

from django.conf import settings
from django.db import models


class IngestRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        SUCCEEDED_WITH_QUARANTINE = "succeeded_with_quarantine"
        FAILED = "failed"
        SUPERSEDED = "superseded"  # a later workbook owns the slice; this one changed no table

    class StampSource(models.TextChoices):
        FILE_NAME = "file_name"
        CORE_PROPERTIES = "core_properties"
        NONE = "", "none"

    class Source(models.TextChoices):
        API = "api"
        COMMAND = "command"
        DROP_FOLDER = "drop_folder"
        PORTAL = "portal"

    FINISHED = (Status.SUCCEEDED, Status.SUCCEEDED_WITH_QUARANTINE, Status.FAILED, Status.SUPERSEDED)
    PUBLISHED = (Status.SUCCEEDED, Status.SUCCEEDED_WITH_QUARANTINE)

    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.PositiveBigIntegerField()
    raw_uri = models.CharField(max_length=500, help_text="the kept raw file in the warehouse (raw/)")
    source = models.CharField(max_length=16, choices=Source.choices)
    vendor = models.CharField(max_length=16, blank=True)
    dataset = models.CharField(max_length=64, blank=True, db_index=True)
    asof_date = models.DateField(null=True, blank=True)
    asof_override = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.QUEUED, db_index=True)
    rows_parsed = models.PositiveIntegerField(default=0)
    rows_published = models.PositiveIntegerField(default=0)
    rows_derived = models.PositiveIntegerField(default=0)
    rows_quarantined = models.PositiveIntegerField(default=0)
    rows_per_sheet = models.JSONField(default=dict)
    quarantine_reasons = models.JSONField(default=dict)
    stage_ms = models.JSONField(default=dict, help_text="milliseconds per stage")
    warnings = models.JSONField(default=list)
    snapshot_id = models.BigIntegerField(null=True, blank=True, help_text="Iceberg snapshot this run wrote")
    file_stamp = models.DateTimeField(
        null=True, blank=True, help_text="the workbook's publication time: orders two files of one slice"
    )
    file_stamp_source = models.CharField(max_length=16, choices=StampSource.choices, blank=True)
    replaced_run = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    superseded_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="the run that owns the slice this (older) workbook would have replaced",
    )
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="executions started (deliveries)")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["dataset", "asof_date", "status"])]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def stage_seconds(self) -> float | None:
        """Seconds the pipeline's stages took so far (None before the first one finished)."""
        if not self.stage_ms:
            return None
        return round(sum(self.stage_ms.values()) / 1000, 1)


class CurveQuarantineRelease(models.Model):
    """One operator's decision on quarantined vendor rows (release or reject, one row or many): who, when,
    why. Released rows carry its id in the curve table (``quarantine_release_id``) beside their run's."""

    class Action(models.TextChoices):
        RELEASE = "release"
        REJECT = "reject"

    action = models.CharField(max_length=8, choices=Action.choices)
    decided_by = models.CharField(max_length=254)
    decided_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(help_text="why the operator decided so")
    snapshot_id = models.BigIntegerField(
        null=True, blank=True, help_text="the curve table snapshot the release wrote"
    )

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.action} #{self.pk} by {self.decided_by}"


class CurveQuarantineRow(models.Model):
    """A vendor workbook row the validate stage held back (the row as the Iceberg quarantine table has it),
    registered when its run published its slice, so that operators can review it row by row."""

    class Status(models.TextChoices):
        HELD = "held"
        RELEASED = "released"  # published to the curve table after all
        REJECTED = "rejected"  # stays out for good
        SUPERSEDED = "superseded"  # a later workbook of the day replaced the slice before a decision

    run = models.ForeignKey(IngestRun, on_delete=models.CASCADE, related_name="quarantine_rows")
    dataset = models.CharField(max_length=64)
    asof_date = models.DateField()
    curve_key = models.CharField(max_length=64, blank=True)
    tenor_label = models.CharField(max_length=64, blank=True)
    sheet_name = models.CharField(max_length=128, blank=True)
    row = models.JSONField(help_text="the row as the quarantine table holds it")
    reasons = models.JSONField(default=list, help_text="the spec's reasons and the rules it failed")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.HELD)
    decision = models.ForeignKey(
        CurveQuarantineRelease, null=True, blank=True, on_delete=models.PROTECT, related_name="rows"
    )

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["status", "id"]),
            models.Index(fields=["dataset", "asof_date", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.dataset} {self.asof_date} {self.curve_key[:12]} {self.tenor_label} ({self.status})"
