"""Dataset freshness states and backfills (public schema: they are about shared market data).

- ``DatasetDayState``: one row per (dataset, publication day) that went late — for an intraday contract one
  per (dataset, interval), ``period_start`` naming the interval (decision 0042). Its insert is what emits
  ``dataset.late`` (the unique constraint makes it once, whichever beat or worker process gets there first);
  the conditional update late → recovered emits ``dataset.recovered`` once.
- ``Backfill`` and ``BackfillWindow``: an operator's request to (re)load a dataset over a date range, one
  window per publication period (a feed fetch window, or an EOD workbook day), each with its own state.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class DatasetDayState(models.Model):
    class Status(models.TextChoices):
        LATE = "late"
        RECOVERED = "recovered"

    dataset = models.CharField(max_length=200)
    publication_day = models.DateField()
    period_start = models.DateTimeField(
        null=True, blank=True, help_text="an intraday dataset's interval; empty for a daily publication"
    )
    expected_at = models.DateTimeField()
    due_at = models.DateTimeField(help_text="expected_at + the SLA")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.LATE)
    late_at = models.DateTimeField(help_text="when the evaluation found it late")
    recovered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["dataset", "-publication_day"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "publication_day"],
                condition=Q(period_start__isnull=True),
                name="datasets_day_state_once",
            ),
            models.UniqueConstraint(
                fields=["dataset", "period_start"],
                condition=Q(period_start__isnull=False),
                name="datasets_interval_state_once",
            ),
        ]
        indexes = [models.Index(fields=["status", "dataset"])]

    def __str__(self) -> str:
        return f"{self.dataset} {self.publication_day} {self.status}"


class Backfill(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    dataset = models.CharField(max_length=200, help_text="the contract id, e.g. feed:fred:DGS10")
    first_day = models.DateField()
    last_day = models.DateField()
    source_dir = models.CharField(max_length=500, blank=True, help_text="EOD workbooks: the folder read")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_in = models.CharField(max_length=63, blank=True, help_text="the operator tenant's schema")
    created = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.dataset} {self.first_day}..{self.last_day} ({self.status})"


class BackfillWindow(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    backfill = models.ForeignKey(Backfill, on_delete=models.CASCADE, related_name="windows")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    source_file = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    fetch_run = models.ForeignKey(
        "feeds.FetchRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ingest_run = models.ForeignKey(
        "ingestion.IngestRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    error_code = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["backfill", "window_start"]
        constraints = [
            models.UniqueConstraint(fields=["backfill", "window_start"], name="datasets_backfill_window_once")
        ]

    def __str__(self) -> str:
        return f"{self.backfill_id} [{self.window_start:%Y-%m-%d}, {self.window_end:%Y-%m-%d}) {self.status}"
