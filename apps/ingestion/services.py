"""Vendor EOD ingestion: receive a workbook, then parse → enrich → validate → write, with lineage.

``ingest_run_create`` keeps the raw file and records a queued run (or returns the run that already
ingested the same bytes); ``ingest_run_execute`` does the work and may be re-run safely: the write is one
atomic Iceberg partition overwrite per (dataset, as-of), so a re-run replaces rather than duplicates.
"""

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.curves.services import curve_catalog_upsert
from apps.ingestion.models import IngestRun
from apps.ingestion.parsers.enrichment import enrich
from apps.ingestion.parsers.errors import WorkbookError
from apps.ingestion.parsers.quality import quarantine_split
from apps.ingestion.parsers.strips import derived_strips
from apps.ingestion.parsers.workbook import detect_vendor, parse_workbook
from apps.reference.selectors import units_lookup
from aurum.events.fanout import dataset_event_publish_on_commit
from aurum.lakehouse.latest import curve_latest_merge
from aurum.lakehouse.locks import advisory_xact_lock
from aurum.lakehouse.raw import raw_get, raw_put
from aurum.lakehouse.tables import (
    CURVE_OBSERVATION_ARROW,
    CURVE_QUARANTINE_ARROW,
    CURVE_TABLES_LOCK,
    SORT_COLUMNS,
    curve_observation_table,
    curve_quarantine_table,
    slice_filter,
)
from aurum.lakehouse.versions import dataset_version_bump

log = structlog.get_logger(__name__)


class IngestRejectedError(Exception):
    """The upload itself is unacceptable (larger than the limit). ``run`` records it, with the file kept."""

    def __init__(self, message: str, run: IngestRun) -> None:
        super().__init__(message)
        self.run = run


@dataclass(frozen=True)
class RunCreated:
    run: IngestRun
    created: bool  # False: these exact bytes were already ingested, and ``run`` is that earlier run


def dataset_for(vendor: str) -> str:
    return f"vendor:{vendor}"


def ingest_run_create(
    *,
    data: bytes,
    file_name: str,
    source: str,
    requested_by: User | None = None,
    as_of: date | None = None,
) -> RunCreated:
    """Keep the raw bytes and queue a run. The same bytes again (with no as-of override) are a no-op.

    A file over ``AURUM_INGEST_MAX_BYTES`` is kept for review and recorded as a failed run, then refused
    (IngestRejectedError); nothing is parsed.
    """
    sha256 = hashlib.sha256(data).hexdigest()
    done = (
        IngestRun.objects.filter(
            sha256=sha256, status__in=[IngestRun.Status.SUCCEEDED, IngestRun.Status.SUCCEEDED_WITH_QUARANTINE]
        )
        .order_by("-created")
        .first()
    )
    if done is not None and (as_of is None or as_of == done.asof_date):
        return RunCreated(run=done, created=False)
    vendor = detect_vendor(file_name) or ""
    received = {
        "file_name": file_name,
        "sha256": sha256,
        "size_bytes": len(data),
        "source": source,
        "vendor": vendor,
        "dataset": dataset_for(vendor) if vendor else "",
        "requested_by": requested_by,
        "raw_uri": raw_put(data=data, sha256=sha256, file_name=file_name),
    }
    if len(data) > settings.AURUM_INGEST_MAX_BYTES:
        message = (
            f"'{file_name}' is {len(data):,} bytes; the limit is {settings.AURUM_INGEST_MAX_BYTES:,} bytes. "
            "It was kept for review but not ingested."
        )
        refused = IngestRun.objects.create(
            **received,
            status=IngestRun.Status.FAILED,
            error_code="file_too_large",
            error_message=message,
            finished_at=timezone.now(),
        )
        raise IngestRejectedError(message, refused)
    run = IngestRun.objects.create(**received, asof_override=as_of)
    return RunCreated(run=run, created=True)


def ingest_run_execute(*, run_id: int, after_write: Callable[[IngestRun], None] | None = None) -> IngestRun:
    """Run (or re-run) every stage of an ingest run. Safe to call again after a crash at any point.

    ``after_write`` is called between the Iceberg commit and the run's own bookkeeping; tests use it to
    simulate a worker dying at the worst moment.
    """
    run = IngestRun.objects.get(pk=run_id)
    if run.is_finished and run.status != IngestRun.Status.FAILED:
        return run
    run.status, run.started_at, run.attempts = IngestRun.Status.RUNNING, timezone.now(), run.attempts + 1
    run.error_code = run.error_message = ""
    run.save(update_fields=["status", "started_at", "attempts", "error_code", "error_message"])
    stages: dict[str, float] = {}
    try:
        with _stage(stages, "read"):
            data = raw_get(run.raw_uri)
        with _stage(stages, "parse"):
            parsed = parse_workbook(
                data,
                filename=run.file_name,
                as_of=run.asof_override,
                max_bytes=settings.AURUM_INGEST_MAX_BYTES,
            )
        run.vendor, run.dataset, run.asof_date = parsed.vendor, dataset_for(parsed.vendor), parsed.asof_date
        with _stage(stages, "enrich"):
            enriched = enrich(parsed.rows, units_lookup())
        with _stage(stages, "validate"):
            clean, quarantined = quarantine_split(enriched)
            strips = derived_strips(clean)
        with _stage(stages, "write"):
            published = _published_table(clean, strips, run)
            snapshot_id = _write_slice(run, published, _quarantine_table(quarantined, run))
        if after_write is not None:
            after_write(run)
        with _stage(stages, "catalog"):
            curve_catalog_upsert(published=published, dataset=run.dataset, vendor=run.vendor)
    except WorkbookError as exc:
        return _fail(run, stages, code=exc.code, message=exc.message)
    run.rows_parsed = parsed.rows.num_rows
    run.rows_published = published.num_rows
    run.rows_derived = strips.num_rows
    run.rows_quarantined = quarantined.num_rows
    run.rows_per_sheet = parsed.rows_per_sheet()
    run.quarantine_reasons = _reason_counts(quarantined)
    run.warnings = list(parsed.warnings)
    run.snapshot_id = snapshot_id
    run.stage_ms = stages
    run.status = (
        IngestRun.Status.SUCCEEDED_WITH_QUARANTINE if quarantined.num_rows else IngestRun.Status.SUCCEEDED
    )
    run.finished_at = timezone.now()
    with transaction.atomic():
        run.replaced_run = (
            IngestRun.objects.filter(
                dataset=run.dataset,
                asof_date=run.asof_date,
                status__in=[IngestRun.Status.SUCCEEDED, IngestRun.Status.SUCCEEDED_WITH_QUARANTINE],
            )
            .exclude(pk=run.pk)
            .order_by("-finished_at")
            .first()
        )
        run.save()
        dataset_version_bump(run.dataset)
        dataset_event_publish_on_commit(
            dataset=run.dataset, event_type="ingestion.completed", payload=ingest_run_event_payload(run)
        )
    log.info(
        "ingest run finished", run_id=run.pk, status=run.status, rows=run.rows_published, stage_ms=stages
    )
    return run


def ingest_run_fail_unexpected(*, run_id: int, error: BaseException) -> IngestRun:
    """Record that a run died of something other than bad input (after its retries), so it never stays
    'running'. The message names the error for operators; the raw file is kept for a re-run."""
    run = IngestRun.objects.get(pk=run_id)
    message = (
        f"Internal error while ingesting ({type(error).__name__}: {error}). The file is kept; retry the run."
    )
    return _fail(run, dict(run.stage_ms), code="internal_error", message=message[:2000])


def _fail(run: IngestRun, stages: dict[str, float], *, code: str, message: str) -> IngestRun:
    run.status, run.error_code, run.error_message = IngestRun.Status.FAILED, code, message
    run.stage_ms, run.finished_at = stages, timezone.now()
    with transaction.atomic():
        run.save()
        if run.dataset:
            dataset_event_publish_on_commit(
                dataset=run.dataset, event_type="ingestion.failed", payload=ingest_run_event_payload(run)
            )
    log.warning("ingest run failed", run_id=run.pk, error_code=code, error=message)
    return run


class _stage:  # noqa: N801 - reads as a statement: ``with _stage(stages, "parse"):``
    def __init__(self, stages: dict[str, float], name: str) -> None:
        self.stages, self.name = stages, name

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.stages[self.name] = round((time.perf_counter() - self.started) * 1000, 1)


def _with_lineage(table: pa.Table, run: IngestRun, schema: pa.Schema) -> pa.Table:
    """Stamp load time, dataset and run id on every row and conform to the Iceberg table's schema."""
    n = table.num_rows
    stamped = {
        "_ingest_ts": pa.array([timezone.now()] * n, pa.timestamp("us", tz="UTC")),
        "dataset": pa.array([run.dataset] * n, pa.string()),
        "ingest_run_id": pa.array([run.pk] * n, pa.int64()),
    }
    columns = [
        stamped[f.name]
        if f.name in stamped
        else table.column(f.name).cast(f.type)
        if f.name in table.column_names
        else pa.nulls(n, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def _published_table(clean: pa.Table, strips: pa.Table, run: IngestRun) -> pa.Table:
    both = pa.concat_tables([clean, strips], promote_options="permissive") if strips.num_rows else clean
    table = _with_lineage(both, run, CURVE_OBSERVATION_ARROW)
    return table.sort_by([(name, "ascending") for name in SORT_COLUMNS])


def _quarantine_table(quarantined: pa.Table, run: IngestRun) -> pa.Table:
    return _with_lineage(quarantined, run, CURVE_QUARANTINE_ARROW)


def _slice_filter(run: IngestRun) -> str:
    assert run.asof_date is not None
    return slice_filter(run.dataset, run.asof_date)


def _write_slice(run: IngestRun, published: pa.Table, quarantined: pa.Table) -> int:
    """Replace the (dataset, as-of) slice in both tables, one writer at a time."""
    with transaction.atomic():
        advisory_xact_lock(CURVE_TABLES_LOCK)
        quarantine = curve_quarantine_table()
        quarantine.overwrite(quarantined, overwrite_filter=_slice_filter(run))
        observations = curve_observation_table()
        observations.overwrite(published, overwrite_filter=_slice_filter(run))
        snapshot = observations.current_snapshot()  # the commit updated the table object
        # Same lock: the latest rows are derived from the vintages, so they must see writes in order.
        curve_latest_merge(run.dataset, published)
    assert snapshot is not None
    return int(snapshot.snapshot_id)


def _reason_counts(quarantined: pa.Table) -> dict[str, int]:
    if quarantined.num_rows == 0:
        return {}
    counts: dict[str, int] = {}
    for reasons in pc.value_counts(quarantined.column("quarantine_reason")).to_pylist():
        for reason in (reasons["values"] or "").split("|"):
            counts[reason] = counts.get(reason, 0) + reasons["counts"]
    return counts


def ingest_run_event_payload(run: IngestRun) -> dict[str, Any]:
    return {
        "run_id": run.pk,
        "status": run.status,
        "dataset": run.dataset,
        "vendor": run.vendor,
        "asof_date": run.asof_date.isoformat() if run.asof_date else None,
        "file_name": run.file_name,
        "sha256": run.sha256,
        "rows_published": run.rows_published,
        "rows_quarantined": run.rows_quarantined,
        "snapshot_id": run.snapshot_id,
        "error_code": run.error_code or None,
        "error_message": run.error_message or None,
    }


DROP_DONE, DROP_FAILED = ".done", ".failed"


def ingest_drop_folder_scan(*, folder: Any) -> list[IngestRun]:
    """Take every ``*.xlsx`` in the drop folder: queue a run and move the file to ``.done/``.

    A file that cannot be taken (over the size limit, unreadable) moves to ``.failed/`` with an ``.error``
    note.
    Files still being written (modified in the last 5 s) wait for the next scan.
    """
    from pathlib import Path

    folder = Path(folder)
    runs: list[IngestRun] = []
    if not folder.is_dir():
        return runs
    for path in sorted(folder.glob("*.xlsx")):
        if time.time() - path.stat().st_mtime < 5:
            continue
        try:
            created = ingest_run_create(
                data=path.read_bytes(), file_name=path.name, source=IngestRun.Source.DROP_FOLDER
            )
        except (IngestRejectedError, OSError) as exc:
            target = folder / DROP_FAILED
            target.mkdir(exist_ok=True)
            path.replace(target / path.name)
            (target / f"{path.name}.error").write_text(str(exc))
            continue
        target = folder / DROP_DONE
        target.mkdir(exist_ok=True)
        path.replace(target / path.name)
        if created.created:
            runs.append(created.run)
    return runs
