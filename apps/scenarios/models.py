"""Scenarios and their runs (tenant schema): what to move, how, and every attempt to compute it.

Outputs are not here: they are rows of the tenant's Iceberg table ``t_<schema>.scenario_output``; a run
records the snapshot of the curves it read and the row count and content hash of what it wrote.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


class Scenario(models.Model):
    class Status(models.TextChoices):
        CREATED = "created"
        ACTIVE = "active"
        ARCHIVED = "archived"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED, db_index=True)
    tags = models.JSONField(default=list, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1, help_text="bumped by every update")
    unique_key = models.CharField(max_length=300, help_text="{tenant}:{slug(name)}")
    curve_keys = models.JSONField(default=list, blank=True, help_text="the curves it applies to, or []")
    curve_filter = models.JSONField(
        default=dict, blank=True, help_text="dimension filter (iso, market, product…) when curve_keys is []"
    )
    base_asof = models.DateField(null=True, blank=True, help_text="base curves' as-of; null: the latest")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(Lower("name"), name="uniq_scenario_name_ci")]

    def __str__(self) -> str:
        return self.name


class ScenarioAssumption(models.Model):
    """One driver assumption of a scenario, in order: ``{driver_type, payload, name?, version}``."""

    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="assumptions")
    order = models.PositiveSmallIntegerField()
    driver_type = models.CharField(max_length=64)
    name = models.CharField(max_length=100, blank=True)
    payload = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["scenario", "order"]
        constraints = [models.UniqueConstraint(fields=["scenario", "order"], name="uniq_assumption_order")]

    def __str__(self) -> str:
        return f"{self.scenario_id}#{self.order} {self.driver_type}"

    def as_node(self) -> dict[str, object]:
        """The engine's node form (apps.scenarios.drivers)."""
        node: dict[str, object] = {"driver_type": self.driver_type, "payload": self.payload}
        if self.name:
            node["name"] = self.name
        return node


class ScenarioRun(models.Model):
    """One computation of a scenario. ``id``, ``scenario`` and ``status`` are read by apps.ppa."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"
        TIMED_OUT = "timed_out"

    class Priority(models.TextChoices):
        LOW = "low"
        NORMAL = "normal"
        HIGH = "high"
        CRITICAL = "critical"

    class ErrorCode(models.TextChoices):
        """Why a run ended failed or timed out (``error_code``); ``error_message`` says it in words."""

        INVALID_ASSUMPTIONS = "INVALID_ASSUMPTIONS"
        NO_CURVE_ROWS = "NO_CURVE_ROWS"
        MEMORY_LIMIT_EXCEEDED = "MEMORY_LIMIT_EXCEEDED"
        TIMED_OUT = "TIMED_OUT"
        RETRIES_EXHAUSTED = "RETRIES_EXHAUSTED"
        WORKER_LOST = "WORKER_LOST"
        STAGED_OUTPUT_UNREADABLE = "STAGED_OUTPUT_UNREADABLE"
        STAGED_OUTPUT_LOST = "STAGED_OUTPUT_LOST"
        INTERNAL_ERROR = "INTERNAL_ERROR"
        ADMIN_FAILED = (
            "ADMIN_FAILED"  # an administrator failed it by hand (POST /v1/scenarios/runs/{id}/state)
        )

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED, Status.TIMED_OUT)
    # Runs with these states hold their input hash: the same inputs return them instead of a new run.
    REUSABLE = (Status.QUEUED, Status.RUNNING, Status.SUCCEEDED)
    # Lower sorts first in the dispatcher.
    PRIORITY_RANK = {Priority.CRITICAL: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    priority_rank = models.PositiveSmallIntegerField(default=2)
    input_hash = models.CharField(max_length=64, db_index=True)
    idempotency_key = models.CharField(max_length=255, blank=True, default="")
    idempotency_fingerprint = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="SHA-256 of the request made with idempotency_key (the key with another request: 422)",
    )
    seed = models.BigIntegerField(default=0)
    code_version = models.CharField(max_length=40)
    options = models.JSONField(default=dict, help_text="parameters, environment, n_paths, metrics")
    timeout_minutes = models.PositiveIntegerField(default=60)
    max_retries = models.PositiveSmallIntegerField(default=3)
    retry_count = models.PositiveSmallIntegerField(default=0)
    progress_percent = models.FloatField(default=0.0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField()
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text="handed to a worker; counts against the plan's concurrency cap"
    )
    retry_at = models.DateTimeField(
        null=True, blank=True, help_text="re-queued after a transient error: not to be sent again before this"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="database time of the running worker's last sign of life"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    error_code = models.CharField(max_length=40, blank=True, default="", choices=ErrorCode.choices)
    base_asof_requested = models.DateField(null=True, blank=True, help_text="null: latest")
    base_asof = models.DateField(null=True, blank=True, help_text="the newest as-of of the curves read")
    curve_snapshot_id = models.BigIntegerField(
        null=True, blank=True, help_text="Iceberg snapshot of market.curve_observation the run reads"
    )
    curve_units = models.JSONField(default=dict, blank=True, help_text="curve_key → unit, e.g. EUR/MWh")
    output_snapshot_id = models.BigIntegerField(null=True, blank=True)
    output_rows = models.PositiveIntegerField(default=0)
    output_hash = models.CharField(max_length=64, blank=True, help_text="apps.scenarios.output_hash")
    output_staged_uri = models.CharField(
        max_length=1024,
        blank=True,
        default="",
        help_text="computed, its rows staged at this URI for the next group commit; '' otherwise",
    )

    class Meta:
        ordering = ["-queued_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["scenario", "input_hash"],
                condition=models.Q(status__in=["queued", "running", "succeeded"]),
                name="uniq_run_inputs_live",
            ),
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=models.Q(idempotency_key__gt=""),
                name="uniq_run_idempotency_key",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "priority_rank", "queued_at"], name="run_dispatch_idx"),
            models.Index(fields=["scenario", "status", "-completed_at"], name="run_latest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.scenario_id} run {self.id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class ScenarioRunEvent(models.Model):
    """Audit trail of a run: queued, dispatched, started, retry, succeeded, failed, cancelled, timed_out."""

    run = models.ForeignKey(ScenarioRun, on_delete=models.CASCADE, related_name="events")
    event_type = models.CharField(max_length=32)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.run_id} {self.event_type}"
