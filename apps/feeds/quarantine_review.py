"""Quarantine review of feed rows (decision 0035): the platform's operators see the rows a contract's quality
rules held back, with the rules each failed, and release them (the row is published to its lakehouse table
after all) or reject them (it stays out). Each decision is an entry in the operator tenant's audit ledger.

A release appends the row under the table's advisory lock. A later fetch of the same window replaces the
window's rows (and its quarantine) with what the provider answers then, as any re-fetch does.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pyarrow as pa
from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_append
from apps.feeds.datasets import feed_dataset_get
from apps.feeds.models import FeedQuarantineRow
from aurum.errors import ConflictError
from aurum.lakehouse.feed_tables import (
    DROUGHT_USDM,
    DROUGHT_USDM_ARROW,
    ISO_LMP,
    ISO_LMP_ARROW,
    SERIES_OBSERVATION,
    SERIES_OBSERVATION_ARROW,
    drought_usdm_table,
    iso_lmp_table,
    series_observation_table,
)
from aurum.lakehouse.locks import advisory_xact_lock, table_lock_name


def _cell(value: Any, field: pa.Field) -> Any:
    """A JSON-stored value back to the column's type (timestamps and dates were stored as text)."""
    if value is None:
        return None
    if pa.types.is_timestamp(field.type):
        return datetime.fromisoformat(str(value))
    if pa.types.is_date(field.type):
        return date.fromisoformat(str(value)[:10])
    return value


def _table_of(kind: str) -> tuple[str, pa.Schema, Any]:
    if kind == "series":
        return SERIES_OBSERVATION, SERIES_OBSERVATION_ARROW, series_observation_table
    if kind == "lmp":
        return ISO_LMP, ISO_LMP_ARROW, iso_lmp_table
    return DROUGHT_USDM, DROUGHT_USDM_ARROW, drought_usdm_table


def feed_quarantine_decide(
    *, row: FeedQuarantineRow, release: bool, decided_by: str, tenant_schema: str
) -> FeedQuarantineRow:
    """Release (publish) or reject one held row; ConflictError when it was decided already."""
    with transaction.atomic():
        locked = FeedQuarantineRow.objects.select_for_update().get(pk=row.pk)
        if locked.status != FeedQuarantineRow.Status.HELD:
            raise ConflictError(f"The row was {locked.status} already.")
        if release:
            feed = feed_dataset_get(provider=locked.provider, dataset=locked.dataset)
            identifier, schema, table = _table_of(feed.kind)
            arrow = pa.table({f.name: [_cell(locked.row.get(f.name), f)] for f in schema}, schema=schema)
            advisory_xact_lock(table_lock_name(identifier))
            table().append(arrow)
        locked.status = FeedQuarantineRow.Status.RELEASED if release else FeedQuarantineRow.Status.REJECTED
        locked.decided_at, locked.decided_by = timezone.now(), decided_by
        locked.save(update_fields=["status", "decided_at", "decided_by"])
        audit_append(
            action=f"feed_quarantine.{'release' if release else 'reject'}",
            resource_type="feed_quarantine_row",
            resource_id=locked.pk,
            changes={"provider": locked.provider, "dataset": locked.dataset, "reasons": locked.reasons},
            schema_name=tenant_schema,
        )
    return locked
