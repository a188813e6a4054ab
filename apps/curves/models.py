"""The curve catalog (public schema): one row per curve_key, with its identity and what was learnt about it.

The time series themselves live in Iceberg (`market.curve_observation`); this is the index over them.
"""

from django.db import models


class Curve(models.Model):
    curve_key = models.CharField(max_length=64, unique=True)
    dataset = models.CharField(max_length=64, db_index=True, help_text="e.g. vendor:EUGP")
    vendor = models.CharField(max_length=16)
    # The original identity dimensions, exactly as hashed into curve_key.
    asset_class = models.CharField(max_length=32)
    iso = models.CharField(max_length=64, blank=True)
    region = models.CharField(max_length=32, blank=True)
    location = models.CharField(max_length=200, blank=True)
    market = models.CharField(max_length=64, blank=True)
    product = models.CharField(max_length=200, blank=True)
    block = models.CharField(max_length=32, blank=True)
    spark_location = models.CharField(max_length=200, blank=True)
    # The corrected meaning, recorded beside the original identity (spec section 8).
    commodity = models.CharField(max_length=32, blank=True, db_index=True)
    unit_note = models.CharField(max_length=64, blank=True)
    vendor_region = models.CharField(max_length=16, blank=True)
    units_raw = models.CharField(max_length=64, blank=True)
    currency = models.CharField(max_length=8, blank=True)
    per_unit = models.CharField(max_length=16, blank=True)
    sheet_names = models.JSONField(default=list)
    first_asof = models.DateField()
    last_asof = models.DateField()
    tenor_count = models.PositiveIntegerField(default=0, help_text="tenors in the latest as-of")
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["curve_key"]
        indexes = [models.Index(fields=["dataset", "iso", "location"])]

    def __str__(self) -> str:
        return f"{self.vendor} {self.location} {self.product} {self.block}".strip()
