"""Usage counted per tenant, day (UTC), credential and metric, flushed from Redis (public schema), and the
quota thresholds a tenant crossed (docs/decisions/0026-usage-and-quotas.md)."""

from django.db import models

from tenants.models import Tenant


class Metric(models.TextChoices):
    API_REQUESTS = "api_requests", "API requests"
    ROWS_SERVED = "rows_served", "Curve rows served"
    SCENARIO_RUNS = "scenario_runs", "Scenario runs"
    EXPORT_ROWS = "export_rows", "Export rows"


class UsageDay(models.Model):
    """What one credential (``token:<id>``, ``session:<membership id>`` or ``system``) used on one day."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="usage_days")
    day = models.DateField()
    credential = models.CharField(max_length=64)
    metric = models.CharField(max_length=32, choices=Metric.choices)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "day", "credential", "metric"], name="uniq_usage_day_credential_metric"
            )
        ]
        ordering = ["day", "credential", "metric"]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.day} {self.credential} {self.metric}={self.count}"


class UsageFlushBatch(models.Model):
    """A batch of Redis counts applied to UsageDay: a batch is applied once however often a flush retries."""

    batch = models.CharField(max_length=64, primary_key=True)
    flushed_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.batch


class QuotaThreshold(models.Model):
    """A tenant reached ``threshold`` % of a monthly quota: one row (and one event) per month and
    threshold."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="quota_thresholds")
    metric = models.CharField(max_length=32, choices=Metric.choices)
    month = models.DateField(help_text="The first day of the month (UTC).")
    threshold = models.PositiveSmallIntegerField()
    limit = models.BigIntegerField()
    used = models.BigIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "metric", "month", "threshold"], name="uniq_quota_threshold"
            )
        ]
        ordering = ["month", "metric", "threshold"]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.month:%Y-%m} {self.metric} {self.threshold}%"
