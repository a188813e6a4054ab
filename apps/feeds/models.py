"""Market fundamentals feeds (public schema, shared market data like curves; decision 0029).

- ``Series``: the series catalog (FRED, EIA, NOAA…), each licensed by its provider's dataset code.
- ``EiaDataset``: EIA API v2 routes (``natural-gas/pri/fut``) with their frequencies, facets and columns.
- ``FetchRun``: one fetch of one (provider, dataset, window): what was asked, what came back, what was
  written. The unique constraint on an active window is the claim: two workers never fetch the same one.
- ``Watermark``: per (provider, dataset) the end of the newest window fetched successfully; only a success
  advances it.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Series(models.Model):
    provider = models.CharField(max_length=16, db_index=True, help_text="EIA, FRED, NOAA")
    series_id = models.CharField(max_length=128, help_text="the provider's id, e.g. DGS10")
    dataset_code = models.CharField(max_length=128, blank=True)
    title = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    unit_code = models.CharField(max_length=64, blank=True)
    frequency_code = models.CharField(max_length=32, blank=True)
    seasonal_adjustment = models.CharField(max_length=64, blank=True)
    geo_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=32, blank=True, default="ACTIVE")
    category = models.CharField(max_length=200, blank=True)
    source_url = models.CharField(max_length=500, blank=True)
    notes = models.TextField(blank=True)
    start_ts = models.DateTimeField(null=True, blank=True)
    end_ts = models.DateTimeField(null=True, blank=True)
    last_observation_ts = models.DateTimeField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider", "series_id"]
        constraints = [models.UniqueConstraint(fields=["provider", "series_id"], name="feeds_series_unique")]

    def __str__(self) -> str:
        return f"{self.provider}:{self.series_id}"

    @property
    def key(self) -> str:
        """The id the API shows: ``FRED:DGS10``."""
        return f"{self.provider}:{self.series_id}"


class EiaDataset(models.Model):
    path = models.CharField(
        max_length=200, unique=True, help_text="the API v2 route, e.g. natural-gas/pri/fut"
    )
    name = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    frequencies = models.JSONField(default=list)
    facets = models.JSONField(default=list)
    data_columns = models.JSONField(default=list)
    start_period = models.CharField(max_length=32, blank=True)
    end_period = models.CharField(max_length=32, blank=True)
    default_frequency = models.CharField(max_length=32, blank=True)
    default_date_format = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return self.path


class FetchRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    provider = models.CharField(max_length=16)
    dataset = models.CharField(max_length=200)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING, db_index=True)
    rows = models.PositiveIntegerField(default=0)
    rows_quarantined = models.PositiveIntegerField(default=0)
    request_count = models.PositiveIntegerField(default=0)
    requests = models.JSONField(default=list, help_text="each request's URL (no secrets) and response sha256")
    error_code = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    snapshot_id = models.BigIntegerField(null=True, blank=True, help_text="the Iceberg snapshot written")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            # The claim: one running fetch per window.
            models.UniqueConstraint(
                fields=["provider", "dataset", "window_start", "window_end"],
                condition=Q(status="running"),
                name="feeds_fetch_window_claimed_once",
            )
        ]
        indexes = [models.Index(fields=["provider", "dataset", "window_start"])]

    def __str__(self) -> str:
        window = f"[{self.window_start:%Y-%m-%d %H:%M}, {self.window_end:%Y-%m-%d %H:%M})"
        return f"{self.provider} {self.dataset} {window}"


class FeedQuarantineRow(models.Model):
    """A fetched row held back by its dataset contract's quality rules (apps/feeds/contracts.py), with the
    rules it failed. A later fetch of the same window replaces the window's quarantined rows."""

    fetch_run = models.ForeignKey(FetchRun, on_delete=models.CASCADE, related_name="quarantined")
    provider = models.CharField(max_length=16)
    dataset = models.CharField(max_length=200)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()

    class Status(models.TextChoices):
        HELD = "held"
        RELEASED = "released"  # an operator published it anyway
        REJECTED = "rejected"  # an operator confirmed it stays out

    row = models.JSONField(help_text="the row as it would have been written")
    reasons = models.JSONField(default=list, help_text="the names of the rules it failed")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.HELD, db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=254, blank=True, help_text="who released or rejected it")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["provider", "dataset", "window_start"])]

    def __str__(self) -> str:
        return f"{self.provider} {self.dataset} {','.join(self.reasons)}"


class Watermark(models.Model):
    provider = models.CharField(max_length=16)
    dataset = models.CharField(max_length=200)
    fetched_until = models.DateTimeField(help_text="end of the newest window fetched successfully")
    last_run = models.ForeignKey(FetchRun, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "dataset"], name="feeds_watermark_unique")]

    def __str__(self) -> str:
        return f"{self.provider} {self.dataset} until {self.fetched_until}"


class ScheduledFetch(models.Model):
    """A publication's window the calendar scheduler sent a fetch for (apps/feeds/scheduling.py): one row
    per (provider, dataset, window), so a minute's beat never sends a window twice; sent again only after
    ``AURUM_FEEDS_SCHEDULE_RETRY_MINUTES`` while the window has not landed."""

    provider = models.CharField(max_length=16)
    dataset = models.CharField(max_length=200)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    publication_day = models.DateField()
    sends = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "dataset", "window_start", "window_end"], name="feeds_scheduled_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.dataset} {self.window_start:%Y-%m-%d} ×{self.sends}"


class SeriesCurveMapping(models.Model):
    """An external series (FRED, EIA…) mapped to an internal curve key: shared market metadata, readable by
    every tenant, written by the platform's operators. One row per (provider, series, curve)."""

    class Method(models.TextChoices):
        MANUAL = "manual"
        AUTOMATED = "automated"
        HEURISTIC = "heuristic"

    external_provider = models.CharField(max_length=16, help_text="FRED, EIA, NOAA…")
    external_series_id = models.CharField(max_length=128)
    curve_key = models.CharField(max_length=64)
    mapping_confidence = models.FloatField(default=1.0, help_text="0.0–1.0")
    mapping_method = models.CharField(max_length=16, choices=Method.choices, default=Method.MANUAL)
    mapping_notes = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.CharField(max_length=254)
    updated_by = models.CharField(max_length=254, blank=True, help_text="empty until changed")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["external_provider", "external_series_id", "curve_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_provider", "external_series_id", "curve_key"],
                name="feeds_series_curve_map_unique",
            ),
            models.CheckConstraint(
                condition=Q(mapping_confidence__gte=0.0) & Q(mapping_confidence__lte=1.0),
                name="feeds_series_curve_map_confidence_0_1",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.external_provider}:{self.external_series_id} → {self.curve_key}"
