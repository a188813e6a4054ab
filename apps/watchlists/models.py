"""A member's watchlist (the curves they follow, with a move threshold each) and the notices a new vintage
raised for them (tenant schema).

Memberships and curves live in the public schema: they are referenced by id and key, without a cross-schema
constraint (a membership removed leaves its rows, which nobody can read any more).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

FRONT = "front"


class Follow(models.Model):
    """One curve on one member's watchlist.

    A move crosses the threshold when ``|diff_abs| >= threshold_abs`` (curve units) or ``|diff_pct| >=
    threshold_pct`` (percent), either that is set. ``tenor`` is the focus: "" for the whole curve (the tenor
    with the largest absolute move), ``"front"`` for the first contract month, or one tenor label.
    """

    membership_id = models.BigIntegerField(db_index=True)
    curve_key = models.CharField(max_length=64)
    threshold_abs = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    threshold_pct = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    tenor = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    # The latest move seen (vintage before -> vintage), kept for the home page (no lakehouse read there).
    move_asof = models.DateField(null=True, blank=True)
    move_prev_asof = models.DateField(null=True, blank=True)
    move_tenor = models.CharField(max_length=32, blank=True, default="")
    move_mid = models.FloatField(null=True, blank=True)
    move_abs = models.FloatField(null=True, blank=True)
    move_pct = models.FloatField(null=True, blank=True, help_text="percent")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["membership_id", "curve_key"], name="uniq_follow"),
            models.CheckConstraint(
                condition=Q(threshold_abs__isnull=False) | Q(threshold_pct__isnull=False),
                name="follow_has_threshold",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.curve_key} for membership {self.membership_id}"


class Notice(models.Model):
    """A followed curve moved beyond its member's threshold in a new vintage. One per (member, curve,
    vintage): a repeated fan-out (the outbox delivers at least once) finds it already there."""

    membership_id = models.BigIntegerField()
    curve_key = models.CharField(max_length=64)
    curve_label = models.CharField(max_length=300, blank=True, default="")
    asof = models.DateField()
    prev_asof = models.DateField()
    tenor = models.CharField(max_length=32)
    mid = models.FloatField(null=True)
    diff_abs = models.FloatField()
    diff_pct = models.FloatField(null=True, help_text="percent")
    unit = models.CharField(max_length=64, blank=True, default="")
    threshold_abs = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    threshold_pct = models.DecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["membership_id", "curve_key", "asof"], name="uniq_notice"),
        ]
        indexes = [models.Index(fields=["membership_id", "read_at", "-created_at"], name="notice_inbox")]

    def __str__(self) -> str:
        return f"{self.curve_key} moved {self.diff_abs} on {self.asof}"
