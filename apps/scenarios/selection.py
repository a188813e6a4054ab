"""How big a scenario's curve selection is, read from the curve catalog (Postgres), never from the lakehouse:
the run budget needs it at submit (``apps.scenarios.services.budget``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Count, ExpressionWrapper, F, IntegerField, Sum

from apps.curves.models import Curve
from tenants.models import Tenant
from tenants.selectors import tenant_datasets

# The catalog's identity columns a scenario's curve_filter may name (tenor_type is a property of points).
CATALOG_DIMENSIONS = ("asset_class", "iso", "region", "location", "market", "product", "block")


@dataclass(frozen=True)
class SelectionSize:
    curves: int
    curve_tenors: int  # an upper bound of the (curve, tenor) cells a run of the selection computes


def selection_size(
    *, tenant: Tenant, curve_keys: tuple[str, ...], curve_filter: Mapping[str, str]
) -> SelectionSize:
    """How many curves a selection reads and how many (curve, tenor) cells, from the curve catalog.

    The catalog's ``tenor_count`` is the quoted tenors of each curve's latest as-of; ingestion derives a
    QUARTER strip per 3 complete months and a CALENDAR strip per 12, so a curve with t quoted tenors has at
    most t + t // 3 + t // 12 tenors. A ``tenor_type`` filter is ignored (it can only make fewer)."""
    curves = Curve.objects.filter(dataset__in=tenant_datasets(tenant=tenant))
    if curve_keys:
        curves = curves.filter(curve_key__in=curve_keys)
    for name, value in curve_filter.items():
        if name in CATALOG_DIMENSIONS:
            curves = curves.filter(**{name: value})
    tenors = ExpressionWrapper(  # integer division in SQL
        F("tenor_count") + F("tenor_count") / 3 + F("tenor_count") / 12, output_field=IntegerField()
    )
    totals = curves.aggregate(curves=Count("pk"), curve_tenors=Sum(tenors))
    return SelectionSize(curves=totals["curves"], curve_tenors=totals["curve_tenors"] or 0)
