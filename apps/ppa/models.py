"""PPA contracts and the record of every valuation (tenant schema).

The monthly rows of a valuation live in the tenant's Iceberg table ``t_<schema>.ppa_valuation`` (spec 2.5);
``PpaValuation`` is its index: what was valued against what, the headline NPV/IRR, and where the rows are.
"""

import uuid

from django.conf import settings
from django.db import models


class PpaContract(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    instrument_id = models.CharField(
        max_length=64, blank=True, help_text="The original's instrument reference, kept as given"
    )
    curve_key = models.CharField(
        max_length=64, blank=True, help_text="The curve valued against by default (base-curve valuations)"
    )
    terms = models.JSONField(default=dict, help_text="Validated by apps.ppa.valuation.validate_terms")
    # Users live in the public schema: no cross-schema constraint, and deleting a user leaves the id.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        counterparty = self.terms.get("counterparty") if isinstance(self.terms, dict) else None
        return f"PPA {counterparty or self.id}"


class PpaValuation(models.Model):
    class Source(models.TextChoices):
        CURVE = "curve", "Base curve"
        SCENARIO_RUN = "scenario_run", "Scenario run"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contract = models.ForeignKey(PpaContract, on_delete=models.CASCADE, related_name="valuations")
    source = models.CharField(max_length=16, choices=Source.choices)
    # Scenario runs are referenced by id, not FK: a valuation stays on record after its run is deleted.
    scenario_id = models.UUIDField(null=True, blank=True)
    scenario_run_id = models.UUIDField(null=True, blank=True, db_index=True)
    curve_key = models.CharField(max_length=64)
    asof = models.DateField(help_text="The as-of of the prices valued against")
    metric = models.CharField(max_length=32, default="mid")
    options = models.JSONField(default=dict, help_text="Term overrides given with the request")
    terms = models.JSONField(default=dict, help_text="The effective terms: contract terms + options")
    currency = models.CharField(max_length=8, blank=True)
    npv = models.DecimalField(max_digits=18, decimal_places=6)
    irr = models.FloatField(null=True, blank=True, help_text="Monthly IRR; null when signs never change")
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    months = models.PositiveIntegerField(default=0)
    row_count = models.PositiveIntegerField(default=0)
    version_hash = models.CharField(max_length=64, help_text="SHA-256 over the inputs and the rows")
    source_snapshot_id = models.BigIntegerField(null=True, blank=True, help_text="Iceberg snapshot read")
    snapshot_id = models.BigIntegerField(null=True, blank=True, help_text="Iceberg snapshot written")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The request's Idempotency-Key and a SHA-256 of what it asked for: the same key again answers this
    # valuation if the request is the same, 422 if not (Stripe's rule).
    idempotency_key = models.CharField(max_length=255, blank=True, default="")
    request_fingerprint = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["contract", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="ppa_valuation_idempotency_key_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} @ {self.asof} ({self.source})"
