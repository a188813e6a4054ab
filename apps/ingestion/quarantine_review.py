"""Quarantine review of vendor workbook rows (decision 0041): the rows the validate stage held back are
registered in Postgres when their run publishes its slice; the platform's operators release them or reject
them (they stay out for good). A release re-runs publication for those rows: they join their run's slice of
``market.curve_observation`` and the derived strips of their curves are derived again with them, in one
snapshot that replaces the slice; the latest table and the curve catalog follow. Each decision is a
``CurveQuarantineRelease`` (who, when, why) and an entry in the operator tenant's audit ledger.

Two operators deciding on the same rows at once: the rows are locked (``SELECT … FOR UPDATE``, in id order)
before their status is read, so the second waits and then finds them decided (409); nothing is written
twice. The write also checks, under the curve tables' lock, that no quoted row of the slice has a released
row's (curve_key, tenor_label): a release whose Postgres commit failed after its Iceberg commit is refused
when tried again instead of publishing the rows twice.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_append
from apps.curves.services import curve_catalog_upsert
from apps.ingestion.contracts import eod_contract_enforce
from apps.ingestion.models import CurveQuarantineRelease, CurveQuarantineRow, IngestRun
from apps.ingestion.parsers.errors import ContractSchemaError
from apps.ingestion.parsers.quality import RULES
from apps.ingestion.publishing import released_slice_rows, run_owns_its_slice, slice_owner_id
from aurum.errors import ConflictError, NotFoundError, UnprocessableError
from aurum.events.fanout import dataset_event_publish_on_commit
from aurum.lakehouse.latest import curve_latest_merge
from aurum.lakehouse.locks import advisory_xact_lock
from aurum.lakehouse.partitions import data_files_write, partition_replace
from aurum.lakehouse.tables import (
    CURVE_OBSERVATION_ARROW,
    CURVE_TABLES_LOCK,
    curve_observation_table,
    curve_quarantine_table,
    slice_filter,
)
from aurum.lakehouse.versions import dataset_version_bump

MAX_ROWS_PER_DECISION = 500
_QUARANTINING = tuple(rule.name for rule in RULES if rule.quarantines)


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON (and Postgres jsonb) has no NaN
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def curve_quarantine_register(*, run: IngestRun, quarantined: pa.Table) -> int:
    """Record the rows ``run`` put in quarantine (``quarantined`` as ``publishing.quarantined_rows`` made
    it) and mark the held rows of the slice's earlier runs superseded (the slice write replaced them).
    Call in the transaction that records the run's outcome; a re-run registers nothing twice."""
    assert run.asof_date is not None
    CurveQuarantineRow.objects.filter(
        dataset=run.dataset, asof_date=run.asof_date, status=CurveQuarantineRow.Status.HELD
    ).exclude(run=run).update(status=CurveQuarantineRow.Status.SUPERSEDED)
    if quarantined.num_rows == 0 or CurveQuarantineRow.objects.filter(run=run).exists():
        return 0
    rows = []
    for record in quarantined.to_pylist():
        row = {name: _json_value(value) for name, value in record.items()}
        rows.append(
            CurveQuarantineRow(
                run=run,
                dataset=run.dataset,
                asof_date=run.asof_date,
                curve_key=record["curve_key"] or "",
                tenor_label=record["tenor_label"] or "",
                sheet_name=record["sheet_name"] or "",
                row=json.loads(json.dumps(row, default=str)),
                reasons=[r for r in (record["quarantine_reason"] or "").split("|") if r],
            )
        )
    CurveQuarantineRow.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def curve_quarantine_register_earlier(*, run: IngestRun) -> int:
    """Register for review the held rows of a run published before the review existed (read from the
    Iceberg quarantine table); 0 when the run no longer owns its day, or its rows are registered already."""
    if not run.rows_quarantined or run.status not in IngestRun.PUBLISHED or not run_owns_its_slice(run):
        return 0
    assert run.asof_date is not None
    where = f"{slice_filter(run.dataset, run.asof_date)} AND ingest_run_id = {int(run.pk)}"
    held = curve_quarantine_table().scan(row_filter=where).to_arrow()
    with transaction.atomic():
        return curve_quarantine_register(run=run, quarantined=held)


def curve_quarantine_decide(
    *,
    row_ids: Sequence[int],
    release: bool,
    decided_by: str,
    reason: str,
    tenant_schema: str,
) -> CurveQuarantineRelease:
    """Release (publish) or reject held rows, all or none. NotFoundError for an unknown id, ConflictError
    when one was decided already (or superseded), or when a release would publish a second row for a
    (curve_key, tenor_label) of its day; UnprocessableError when a row cannot be published (no curve key)."""
    ids = sorted(set(row_ids))
    with transaction.atomic():
        rows = list(CurveQuarantineRow.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        missing = sorted(set(ids) - {row.pk for row in rows})
        if missing:
            raise NotFoundError(f"No such quarantined row: {', '.join(map(str, missing))}.")
        decided = [row for row in rows if row.status != CurveQuarantineRow.Status.HELD]
        if decided:
            raise ConflictError(
                "Decided already: " + ", ".join(f"row {row.pk} is {row.status}" for row in decided) + ".",
                rows={str(row.pk): row.status for row in decided},
            )
        action = CurveQuarantineRelease.Action.RELEASE if release else CurveQuarantineRelease.Action.REJECT
        decision = CurveQuarantineRelease.objects.create(action=action, decided_by=decided_by, reason=reason)
        if release:
            decision.snapshot_id = _publish(rows, decision)
            decision.save(update_fields=["snapshot_id"])
        status = CurveQuarantineRow.Status.RELEASED if release else CurveQuarantineRow.Status.REJECTED
        CurveQuarantineRow.objects.filter(pk__in=ids).update(status=status, decision=decision)
        audit_append(
            action=f"curve_quarantine.{action}",
            resource_type="curve_quarantine_release",
            resource_id=decision.pk,
            changes={
                "rows": ids,
                "reason": reason,
                "runs": sorted({row.run_id for row in rows}),
                "datasets": sorted({row.dataset for row in rows}),
                "snapshot_id": decision.snapshot_id,
            },
            schema_name=tenant_schema,
        )
    return decision


def _arrow_rows(rows: Sequence[CurveQuarantineRow], loaded_at: datetime) -> pa.Table:
    """The rows as the curve table takes them: the stored row with its run's lineage, loaded at
    ``loaded_at``, and the quarantining rules each passed."""
    records = []
    for row in rows:
        record: dict[str, Any] = {}
        for field in CURVE_OBSERVATION_ARROW:
            value = row.row.get(field.name)
            if value is not None and pa.types.is_date(field.type):
                value = date.fromisoformat(str(value)[:10])
            elif value is not None and pa.types.is_timestamp(field.type):
                value = datetime.fromisoformat(str(value))
            record[field.name] = value
        record["_ingest_ts"] = loaded_at
        record["ingest_run_id"], record["dataset"] = row.run_id, row.dataset
        record["rules_passed"] = "|".join(name for name in _QUARANTINING if name not in row.reasons)
        records.append(record)
    return pa.Table.from_pylist(records, schema=CURVE_OBSERVATION_ARROW)


def _publish(rows: Sequence[CurveQuarantineRow], decision: CurveQuarantineRelease) -> int:
    """Publish the rows in their slices with the slices' derived strips of their curves derived again (one
    Iceberg commit replacing the slices), then bring the latest table and the catalog up to date; the
    snapshot id written."""
    loaded_at = timezone.now()
    slices: dict[tuple[str, date], list[CurveQuarantineRow]] = defaultdict(list)
    for row in rows:
        slices[(row.dataset, row.asof_date)].append(row)
    released = {key: _arrow_rows(members, loaded_at) for key, members in slices.items()}
    table = pa.concat_tables(list(released.values()))
    for dataset in {row.dataset for row in rows}:
        try:
            eod_contract_enforce(dataset=dataset, published=table.filter(pc.equal(table["dataset"], dataset)))
        except ContractSchemaError as exc:
            raise UnprocessableError(f"{exc.message} These rows cannot be published; reject them.") from exc
    keys = [(row.dataset, row.asof_date, row.curve_key, row.tenor_label) for row in rows]
    if len(set(keys)) < len(keys):  # per day: the same curve and tenor of two days are two points
        raise ConflictError("Two of the rows have the same (curve_key, tenor_label) of one day: release one.")
    advisory_xact_lock(CURVE_TABLES_LOCK)
    observations = curve_observation_table()
    written: dict[tuple[str, date], pa.Table] = {}
    for (dataset, asof), members in slices.items():
        current = observations.scan(row_filter=slice_filter(dataset, asof)).to_arrow()
        _slice_check(dataset, asof, members, current)
        written[(dataset, asof)] = released_slice_rows(
            current=current, released=released[(dataset, asof)], loaded_at=loaded_at
        )
    # One snapshot replaces every slice (the rows and their strips are seen together, or not at all); the
    # snapshot's summary names the release.
    replaced = pa.concat_tables(list(written.values()))
    where = " OR ".join(f"({slice_filter(dataset, asof)})" for dataset, asof in written)
    partition_replace(
        observations,
        row_filter=where,
        files=data_files_write(observations, replaced),
        rows=replaced,
        snapshot_properties={"aurum.quarantine-release-id": str(decision.pk)},
    )
    snapshot = observations.current_snapshot()
    assert snapshot is not None
    for dataset in sorted({row.dataset for row in rows}):
        curve_latest_merge(dataset, replaced.filter(pc.equal(replaced["dataset"], dataset)))
    for (dataset, asof), members in slices.items():
        keys_touched = pa.array(sorted({row.curve_key for row in members}))
        whole = written[(dataset, asof)]
        touched = whole.filter(pc.is_in(whole["curve_key"], keys_touched))
        vendor = members[0].run.vendor
        curve_catalog_upsert(published=touched, dataset=dataset, vendor=vendor)
        dataset_event_publish_on_commit(
            dataset=dataset,
            event_type="curve.published",
            payload={
                "run_id": members[0].run_id,
                "dataset": dataset,
                "asof_date": asof.isoformat(),
                "curve_keys": keys_touched.to_pylist(),
                "quarantine_release_id": decision.pk,
            },
        )
    for dataset in sorted({row.dataset for row in rows}):
        # Now, as an ingest does; and again after the commit, so that a read cached in between is not kept.
        dataset_version_bump(dataset)
        transaction.on_commit(lambda dataset=dataset: dataset_version_bump(dataset))  # type: ignore[misc]
    return int(snapshot.snapshot_id)


def _slice_check(dataset: str, asof: date, rows: Sequence[CurveQuarantineRow], current: pa.Table) -> None:
    """The rows' run still owns the slice (``current``, its published rows), and no row of it that the
    vendor quoted has a released row's key (a derived strip of that key gives way, as at ingest)."""
    owner = slice_owner_id(dataset=dataset, asof=asof)
    strays = sorted({row.pk for row in rows if row.run_id != owner})
    if strays:
        raise ConflictError(
            f"A later workbook of {dataset} {asof.isoformat()} replaced the slice these rows were held "
            f"back from (rows {', '.join(map(str, strays))}); review that workbook's rows instead."
        )
    quoted = current.filter(pc.invert(pc.fill_null(current["is_derived"], False)))
    present = set(zip(quoted["curve_key"].to_pylist(), quoted["tenor_label"].to_pylist(), strict=True))
    clashes = sorted(row.pk for row in rows if (row.curve_key, row.tenor_label) in present)
    if clashes:
        raise ConflictError(
            f"The curve table already has a row for the (curve_key, tenor_label) of rows "
            f"{', '.join(map(str, clashes))} on {asof.isoformat()}: releasing would publish a second one."
        )
