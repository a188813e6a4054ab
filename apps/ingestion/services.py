"""Vendor EOD ingestion: receive a workbook, then parse → enrich → validate → publish, with lineage.

``ingest_run_create`` keeps the raw file and records a queued run (or returns the run that already took
the same bytes); ``ingest_run_execute`` does the work and may be re-run safely: the write is one atomic
Iceberg partition overwrite per (dataset, as-of), so a re-run replaces rather than duplicates, and a run
whose rows are already published converges (catalog, latest table, dataset version, status) instead of
failing. Which of two workbooks for one (dataset, as-of) is published is decided in ``publishing``
(decision 0013).

A file over ``AURUM_INGEST_MAX_BYTES`` is refused before a byte of it is read or stored
(``ingest_size_check``); a run delivered more than ``AURUM_INGEST_MAX_DELIVERIES`` times (4: the first and
three redeliveries) without finishing, its worker killed each time (e.g. out of memory), is failed instead of
being tried for ever.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.curves.services import curve_catalog_upsert
from apps.ingestion.contracts import eod_contract_enforce
from apps.ingestion.models import IngestRun
from apps.ingestion.parsers.enrichment import enrich
from apps.ingestion.parsers.errors import WorkbookError
from apps.ingestion.parsers.quality import quarantine_split
from apps.ingestion.parsers.strips import derived_strips
from apps.ingestion.parsers.workbook import ParseResult, detect_vendor, parse_workbook, workbook_precheck
from apps.ingestion.publishing import (
    SliceKept,
    published_rows,
    quarantined_rows,
    run_owns_its_slice,
    slice_publish,
)
from apps.ingestion.quarantine_review import curve_quarantine_register
from apps.reference.selectors import units_lookup
from aurum.errors import PayloadTooLargeError, UnprocessableError
from aurum.events.fanout import dataset_event_publish_on_commit
from aurum.lakehouse.raw import raw_get, raw_put
from aurum.lakehouse.versions import dataset_version_bump
from aurum.observability.metrics import INGEST_DURATION, INGEST_ROWS, INGEST_ROWS_QUARANTINED

log = structlog.get_logger(__name__)


class IngestTooLargeError(PayloadTooLargeError):
    """A file over ``AURUM_INGEST_MAX_BYTES``, refused unread. ``run`` records the refusal (without bytes)."""

    slug = "file-too-large"

    def __init__(self, detail: str, *, run: IngestRun) -> None:
        super().__init__(detail, run_id=run.pk, limit_bytes=settings.AURUM_INGEST_MAX_BYTES)
        self.run = run


class IngestRefusedError(UnprocessableError):
    """An upload that is no workbook of a known vendor (not a ZIP, truncated, a ZIP bomb, macros, no vendor
    in the name), refused before it is kept. ``run`` records the refusal (without bytes)."""

    slug = "invalid-workbook"

    def __init__(self, detail: str, *, run: IngestRun) -> None:
        super().__init__(detail, run_id=run.pk, error_code=run.error_code)
        self.run = run


@dataclass(frozen=True)
class RunCreated:
    run: IngestRun
    created: bool  # False: these exact bytes were already taken, and ``run`` is that earlier run


def dataset_for(vendor: str) -> str:
    return f"vendor:{vendor}"


def ingest_size_check(
    *, file_name: str, size_bytes: int, source: str, requested_by: User | None = None
) -> None:
    """Refuse a file over the limit before it is read: record a failed run (no bytes kept, no hash) and
    raise IngestTooLargeError (a 413 problem)."""
    limit = settings.AURUM_INGEST_MAX_BYTES
    if size_bytes <= limit:
        return
    vendor = detect_vendor(file_name) or ""
    message = (
        f"'{file_name}' is {size_bytes:,} bytes; the limit is {limit:,} bytes. "
        "It was refused unread and not kept."
    )
    refused = IngestRun.objects.create(
        file_name=file_name,
        sha256="",
        size_bytes=size_bytes,
        source=source,
        vendor=vendor,
        dataset=dataset_for(vendor) if vendor else "",
        requested_by=requested_by,
        raw_uri="",
        status=IngestRun.Status.FAILED,
        error_code="file_too_large",
        error_message=message,
        finished_at=timezone.now(),
    )
    log.warning("ingest refused: file too large", run_id=refused.pk, file_name=file_name, size=size_bytes)
    raise IngestTooLargeError(message, run=refused)


def ingest_upload_check(
    *, data: bytes, file_name: str, source: str, requested_by: User | None = None
) -> None:
    """Refuse an upload whose archive or name alone shows it cannot be ingested: record a failed run (no
    bytes kept, no hash) and raise IngestRefusedError (a 422 problem). The sheets are read by the run."""
    try:
        workbook_precheck(data, filename=file_name, max_bytes=settings.AURUM_INGEST_MAX_BYTES)
    except WorkbookError as exc:
        vendor = detect_vendor(file_name) or ""
        refused = IngestRun.objects.create(
            file_name=file_name,
            sha256="",
            size_bytes=len(data),
            source=source,
            vendor=vendor,
            dataset=dataset_for(vendor) if vendor else "",
            requested_by=requested_by,
            raw_uri="",
            status=IngestRun.Status.FAILED,
            error_code=exc.code,
            error_message=exc.message,
            finished_at=timezone.now(),
        )
        log.warning("ingest refused: not an ingestible workbook", run_id=refused.pk, error_code=exc.code)
        raise IngestRefusedError(f"{exc.message} It was refused and not kept.", run=refused) from exc


def ingest_run_create(
    *,
    data: bytes,
    file_name: str,
    source: str,
    requested_by: User | None = None,
    as_of: date | None = None,
) -> RunCreated:
    """Keep the raw bytes and queue a run. The same bytes again (with no other as-of) are a no-op.

    Callers check the size before reading the file (``ingest_size_check``); it is checked again here, before
    anything is stored.
    """
    ingest_size_check(file_name=file_name, size_bytes=len(data), source=source, requested_by=requested_by)
    sha256 = hashlib.sha256(data).hexdigest()
    done = (
        IngestRun.objects.filter(
            sha256=sha256, status__in=[*IngestRun.PUBLISHED, IngestRun.Status.SUPERSEDED]
        )
        .order_by("-created")
        .first()
    )
    if done is not None and (as_of is None or as_of == done.asof_date):
        return RunCreated(run=done, created=False)
    vendor = detect_vendor(file_name) or ""
    run = IngestRun.objects.create(
        file_name=file_name,
        sha256=sha256,
        size_bytes=len(data),
        source=source,
        vendor=vendor,
        dataset=dataset_for(vendor) if vendor else "",
        requested_by=requested_by,
        raw_uri=raw_put(data=data, sha256=sha256, file_name=file_name),
        asof_override=as_of,
    )
    return RunCreated(run=run, created=True)


def ingest_run_execute(*, run_id: int, after_write: Callable[[IngestRun], None] | None = None) -> IngestRun:
    """Run (or re-run) every stage of an ingest run. Safe to call again after a crash at any point.

    ``after_write`` is called between the observation table's commit and the rest (latest table, catalog,
    dataset version, the run's own row); tests use it to fail at the worst moment.
    """
    run, started = _start(run_id)
    if not started:
        return run
    began = time.perf_counter()
    try:
        run = _execute(run, after_write)
    except BaseException:
        ingest_run_observe(run, seconds=time.perf_counter() - began, outcome="error")
        raise
    ingest_run_observe(run, seconds=time.perf_counter() - began, outcome=str(run.status))
    return run


def ingest_run_observe(run: IngestRun, *, seconds: float, outcome: str) -> None:
    """Count a finished delivery of ``run`` in the ingest metrics (aurum.observability.metrics); rows only
    for a run that published them."""
    dataset = run.dataset or "unknown"
    INGEST_DURATION.labels(dataset=dataset, outcome=outcome).observe(seconds)
    published = outcome in (IngestRun.Status.SUCCEEDED, IngestRun.Status.SUCCEEDED_WITH_QUARANTINE)
    INGEST_ROWS.labels(dataset=dataset, outcome=outcome).inc(run.rows_published if published else 0)
    if published and run.rows_quarantined:
        INGEST_ROWS_QUARANTINED.labels(dataset=dataset).inc(run.rows_quarantined)


def _execute(run: IngestRun, after_write: Callable[[IngestRun], None] | None) -> IngestRun:
    stages: dict[str, float] = {}
    try:
        with _stage(stages, "read", run):
            data = raw_get(run.raw_uri)
        with _stage(stages, "parse", run):
            parsed = parse_workbook(
                data,
                filename=run.file_name,
                as_of=run.asof_override,
                max_bytes=settings.AURUM_INGEST_MAX_BYTES,
            )
        _record_identity(run, parsed)
        with _stage(stages, "enrich", run):
            enriched = enrich(parsed.rows, units_lookup())
        with _stage(stages, "validate", run):
            clean, quarantined = quarantine_split(enriched)
            strips = derived_strips(clean)
        with _stage(stages, "write", run):
            published = published_rows(clean, strips, run)
            eod_contract_enforce(dataset=run.dataset, published=published)
            held = quarantined_rows(quarantined, run)
            outcome = slice_publish(
                run=run,
                published=published,
                quarantined=held,
                after_write=after_write,
            )
        if isinstance(outcome, SliceKept):
            return _supersede(run, stages, parsed=parsed, owner=outcome.owner)
        with _stage(stages, "catalog", run):
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
    run.snapshot_id = outcome.snapshot_id
    run.replaced_run = outcome.replaced
    run.stage_ms = stages
    run.status = (
        IngestRun.Status.SUCCEEDED_WITH_QUARANTINE if quarantined.num_rows else IngestRun.Status.SUCCEEDED
    )
    run.error_code = run.error_message = ""
    run.finished_at = timezone.now()
    with transaction.atomic():
        run.save()
        curve_quarantine_register(run=run, quarantined=held)  # for review (decision 0041)
        dataset_version_bump(run.dataset)
        dataset_event_publish_on_commit(
            dataset=run.dataset, event_type="ingestion.completed", payload=ingest_run_event_payload(run)
        )
        # Which curves of the dataset got a new vintage (webhooks' curve.published).
        dataset_event_publish_on_commit(
            dataset=run.dataset,
            event_type="curve.published",
            payload={
                "run_id": run.pk,
                "dataset": run.dataset,
                "asof_date": run.asof_date.isoformat() if run.asof_date else None,
                "curve_keys": sorted(set(published.column("curve_key").to_pylist())),
            },
        )
    log.info(
        "ingest run finished", run_id=run.pk, status=run.status, rows=run.rows_published, stage_ms=stages
    )
    return run


def _start(run_id: int) -> tuple[IngestRun, bool]:
    """Count this delivery and mark the run running; (run, False) when there is nothing to do (finished,
    or refused after too many deliveries)."""
    with transaction.atomic():
        run = IngestRun.objects.select_for_update().get(pk=run_id)
        if run.is_finished and run.status != IngestRun.Status.FAILED:
            return run, False
        # Still 'running' at the start of a delivery: the previous one died without recording an outcome.
        died = run.status == IngestRun.Status.RUNNING
        run.status, run.started_at, run.attempts = IngestRun.Status.RUNNING, timezone.now(), run.attempts + 1
        run.save(update_fields=["status", "started_at", "attempts"])
    if died and run.attempts > settings.AURUM_INGEST_MAX_DELIVERIES and not run_owns_its_slice(run):
        message = (
            f"Gave up on delivery {run.attempts}: the {run.attempts - 1} before it never finished (the "
            "worker died each time, e.g. killed for running out of memory). The file is kept; check it "
            "before re-running the run."
        )
        return _fail(run, dict(run.stage_ms), code="redelivered", message=message), False
    return run, True


def _record_identity(run: IngestRun, parsed: ParseResult) -> None:
    """Save what the workbook says it is before the write: a run racing for the same slice compares its
    own stamp with this one's."""
    run.vendor, run.dataset, run.asof_date = parsed.vendor, dataset_for(parsed.vendor), parsed.asof_date
    run.file_stamp = parsed.stamp.at if parsed.stamp else None
    run.file_stamp_source = parsed.stamp.source if parsed.stamp else IngestRun.StampSource.NONE
    run.save(update_fields=["vendor", "dataset", "asof_date", "file_stamp", "file_stamp_source"])


def _supersede(
    run: IngestRun, stages: dict[str, float], *, parsed: ParseResult, owner: IngestRun
) -> IngestRun:
    run.status, run.superseded_by = IngestRun.Status.SUPERSEDED, owner
    run.rows_parsed, run.rows_per_sheet = parsed.rows.num_rows, parsed.rows_per_sheet()
    run.rows_published = run.rows_derived = run.rows_quarantined = 0
    run.warnings = [
        *parsed.warnings,
        f"not published: run {owner.pk} ({owner.file_name}) holds a later workbook for this day",
    ]
    run.error_code = run.error_message = ""
    run.stage_ms, run.finished_at = stages, timezone.now()
    with transaction.atomic():
        run.save()
        dataset_event_publish_on_commit(
            dataset=run.dataset, event_type="ingestion.superseded", payload=ingest_run_event_payload(run)
        )
    log.info("ingest run superseded", run_id=run.pk, owner=owner.pk, dataset=run.dataset, asof=run.asof_date)
    return run


def ingest_run_retry_later(*, run_id: int, error: BaseException, countdown: float) -> None:
    """Record that the run will be tried again (a transient error, or a failure after its rows were
    published): back to 'queued', so the next delivery is not mistaken for a redelivery after a crash."""
    IngestRun.objects.filter(pk=run_id).update(
        status=IngestRun.Status.QUEUED,
        error_code="retrying",
        error_message=f"Retrying in {countdown:.0f} s after {type(error).__name__}: {error}"[:2000],
    )


def ingest_run_fail_unexpected(*, run_id: int, error: BaseException) -> IngestRun:
    """Record that a run died of something other than bad input (after its retries), so it never stays
    'running'. The message names the error for operators; the raw file is kept for a re-run.

    A run whose rows the lakehouse already serves is never marked failed: it keeps its status with the
    error recorded (``unfinished``), and re-running it completes it.
    """
    run = IngestRun.objects.get(pk=run_id)
    detail = f"{type(error).__name__}: {error}"
    if run_owns_its_slice(run):
        run.error_code = "unfinished"
        run.error_message = (
            f"Published to the lakehouse, but finishing the run failed ({detail}); re-run it to complete the "
            "catalog, latest table and dataset version."
        )[:2000]
        run.save(update_fields=["error_code", "error_message"])
        log.error("ingest run published but unfinished", run_id=run.pk, error=detail)
        return run
    message = f"Internal error while ingesting ({detail}). The file is kept; retry the run."
    return _fail(run, dict(run.stage_ms), code="internal_error", message=message[:2000])


def ingest_run_owns_its_slice(*, run_id: int) -> bool:
    """True when the lakehouse serves this run's rows (a failure now came after the commit)."""
    return run_owns_its_slice(IngestRun.objects.get(pk=run_id))


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


class _stage:  # noqa: N801 - reads as a statement: ``with _stage(stages, "parse", run):``
    """Time a stage into ``stages`` and record the times so far on the run, so that the portal shows a run's
    progress stage by stage while it works (one small UPDATE per stage)."""

    def __init__(self, stages: dict[str, float], name: str, run: IngestRun) -> None:
        self.stages, self.name, self.run = stages, name, run

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.stages[self.name] = round((time.perf_counter() - self.started) * 1000, 1)
        IngestRun.objects.filter(pk=self.run.pk).update(stage_ms=self.stages)


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
        "superseded_by": run.superseded_by_id,
        "error_code": run.error_code or None,
        "error_message": run.error_message or None,
    }


DROP_DONE, DROP_FAILED = ".done", ".failed"


def ingest_drop_folder_scan(*, folder: Path) -> list[IngestRun]:
    """Take every ``*.xlsx`` in the drop folder: queue a run and move the file to ``.done/``.

    A file that cannot be taken (over the size limit, unreadable) moves to ``.failed/`` with an ``.error``
    note; an oversized one is never read (its size is taken from the file system). Files still being written
    (modified in the last 5 s) wait for the next scan.
    """
    runs: list[IngestRun] = []
    if not folder.is_dir():
        return runs
    for path in sorted(folder.glob("*.xlsx")):
        try:
            size, modified = path.stat().st_size, path.stat().st_mtime
            if time.time() - modified < 5:
                continue
            source = IngestRun.Source.DROP_FOLDER
            ingest_size_check(file_name=path.name, size_bytes=size, source=source)
            created = ingest_run_create(data=_read_at_most(path), file_name=path.name, source=source)
        except (IngestTooLargeError, OSError) as exc:
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


def _read_at_most(path: Path) -> bytes:
    """The file's bytes, but never more than one byte over the limit (a file that grew after its ``stat``
    is then refused by ``ingest_run_create``'s own check)."""
    with path.open("rb") as stream:
        return stream.read(settings.AURUM_INGEST_MAX_BYTES + 1)
