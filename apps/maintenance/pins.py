"""The Iceberg snapshots Aurum's records are pinned to, which snapshot expiry must keep.

Lineage and pinned reads name snapshots by id: an ingest run and a feed fetch the snapshot they wrote, a
scenario run the curve snapshot it read and the output snapshot it wrote, a PPA valuation the curve
snapshot it read and the valuation snapshot it wrote. Snapshot ids are random 64-bit numbers, so one set
over every table is exact enough: a collision only keeps a snapshot longer.
"""

from __future__ import annotations

from collections.abc import Iterable

from django_tenants.utils import tenant_context

from apps.feeds.models import FetchRun
from apps.ingestion.models import IngestRun
from apps.ppa.models import PpaValuation
from apps.scenarios.models import ScenarioRun
from tenants.models import Tenant


def _ids(*columns: Iterable[int | None]) -> set[int]:
    return {snapshot for column in columns for snapshot in column if snapshot is not None}


def pinned_snapshot_ids() -> set[int]:
    """Every snapshot id a record of the platform or of any tenant (suspended ones too) names."""
    pins = _ids(
        IngestRun.objects.values_list("snapshot_id", flat=True),
        FetchRun.objects.values_list("snapshot_id", flat=True),
    )
    for tenant in Tenant.objects.exclude(schema_name="public").order_by("schema_name"):
        with tenant_context(tenant):
            runs = ScenarioRun.objects.values_list("curve_snapshot_id", "output_snapshot_id")
            valuations = PpaValuation.objects.values_list("source_snapshot_id", "snapshot_id")
            pins |= _ids(*zip(*runs, strict=False), *zip(*valuations, strict=False))
    return pins
