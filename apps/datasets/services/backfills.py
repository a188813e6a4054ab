"""Backfills (decision 0036): an operator reloads a dataset over a date range, one window per publication
period of its contract: a feed fetch window (``feed_fetch``, whose own FetchRun claim still keeps two
workers off one provider window) or, for a vendor EOD dataset, the day's workbook from a folder through the
ingest service.

Each window is a row with its own state. A worker claims a window by moving it from queued to running (a
conditional update: one claimer); the windows' tasks go to the ``backfill`` queue, served by their own
workers, so a backfill of years never delays the scheduled fetches on ``feeds``. A window whose worker died
stays running until ``AURUM_BACKFILL_CLAIM_TIMEOUT_SECONDS`` pass; the sweep then queues it again. Retry
re-queues the failed windows only; cancel stops the windows not started yet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.services import audit_append
from apps.datasets.models import Backfill, BackfillWindow
from apps.datasets.registry import contract_get
from apps.feeds.adapters.base import Window
from apps.feeds.services import feed_fetch
from apps.ingestion.models import IngestRun
from apps.ingestion.services import ingest_run_create, ingest_run_execute
from aurum.celery import app as celery_app
from aurum.datasets.contracts import DatasetContract
from aurum.errors import ConflictError, InvalidInputError, PayloadTooLargeError
from aurum.transient import TRANSIENT_ERRORS

log = structlog.get_logger(__name__)

WINDOW_TASK = "backfill.window_run"
FINISHED = (Backfill.Status.SUCCEEDED, Backfill.Status.FAILED, Backfill.Status.CANCELLED)


@dataclass(frozen=True)
class PlannedWindow:
    start: datetime
    end: datetime
    source_file: str = ""  # EOD: the workbook for the day ("" when the folder has none)


def backfill_plan(
    *, contract: DatasetContract, first_day: date, last_day: date, source_dir: Path | None = None
) -> list[PlannedWindow]:
    """The windows a backfill of ``contract`` from ``first_day`` to ``last_day`` (inclusive) runs: the
    periods of its publications that start within the range, oldest first. InvalidInputError when the range
    is reversed or has more than ``AURUM_BACKFILL_MAX_WINDOWS`` windows."""
    if last_day < first_day:
        raise InvalidInputError.field("to", "must not be before 'from'")
    if (last_day - first_day).days > 366 * 20:
        raise InvalidInputError.field("from", "a backfill spans at most 20 years")
    # Publications from a quarter before (a period starts before its release) to a quarter after the range;
    # an intraday contract's are its intervals, each a window (decision 0042).
    margin = timedelta(days=0 if contract.intraday else 100)
    periods = {
        (p.period.start, p.period.end)
        for p in contract.publications(first_day - margin, last_day + margin)
        if first_day <= p.period.first_day <= last_day
    }
    limit = settings.AURUM_BACKFILL_MAX_WINDOWS
    if len(periods) > limit:
        raise InvalidInputError.field(
            "to", f"the range has {len(periods)} windows; a backfill runs at most {limit}", code="too_many"
        )
    files = _workbooks(contract, source_dir) if contract.kind == "vendor_eod" else {}
    return [PlannedWindow(start, end, files.get(start.date(), "")) for start, end in sorted(periods)]


def _workbooks(contract: DatasetContract, source_dir: Path | None) -> dict[date, str]:
    """The folder's workbooks of the contract's vendor by day (the latest ``_HHMM`` stamp of a day wins,
    as it would when ingested: decision 0013)."""
    folder = source_dir or Path(settings.AURUM_BACKFILL_EOD_DIR)
    vendor = contract.id.split(":", 1)[1]
    pattern = re.compile(rf"EOD_{re.escape(vendor)}_(\d{{8}})(?:_(\d{{4}}))?\.xlsx", re.IGNORECASE)
    found: dict[date, tuple[str, str]] = {}
    for path in sorted(folder.glob("*.xlsx")) if folder.is_dir() else []:
        match = pattern.fullmatch(path.name)
        if match is None:
            continue
        day = datetime.strptime(match.group(1), "%Y%m%d").date()
        stamp = match.group(2) or ""
        if day not in found or stamp > found[day][0]:
            found[day] = (stamp, str(path))
    return {day: path for day, (_, path) in found.items()}


def backfill_create(
    *,
    dataset_id: str,
    first_day: date,
    last_day: date,
    requested_by: User | None,
    tenant_schema: str,
    source_dir: Path | None = None,
) -> Backfill:
    """Record a backfill and queue its windows (after commit). A vendor day without a workbook in the
    folder is a window failed at once (``no_file``): drop the file in and retry the backfill."""
    contract = contract_get(dataset_id=dataset_id)
    planned = backfill_plan(contract=contract, first_day=first_day, last_day=last_day, source_dir=source_dir)
    if not planned:
        raise InvalidInputError.field("from", "the range holds no publication of this dataset")
    now = timezone.now()
    missing = contract.kind == "vendor_eod"
    with transaction.atomic():
        backfill = Backfill.objects.create(
            dataset=contract.id,
            first_day=first_day,
            last_day=last_day,
            source_dir=str(source_dir or settings.AURUM_BACKFILL_EOD_DIR) if missing else "",
            requested_by=requested_by,
            requested_in=tenant_schema,
        )
        windows = BackfillWindow.objects.bulk_create(
            BackfillWindow(
                backfill=backfill,
                window_start=w.start,
                window_end=w.end,
                source_file=w.source_file,
                enqueued_at=now,
                **(
                    {
                        "status": BackfillWindow.Status.FAILED,
                        "error_code": "no_file",
                        "error": f"No workbook for {w.start.date().isoformat()} in the folder.",
                        "finished_at": now,
                    }
                    if missing and not w.source_file
                    else {}
                ),
            )
            for w in planned
        )
        audit_append(
            action="backfill.create",
            resource_type="backfill",
            resource_id=backfill.pk,
            changes={
                "dataset": contract.id,
                "from": first_day,
                "to": last_day,
                "windows": len(windows),
            },
            schema_name=tenant_schema,
        )
        _status_refresh(backfill.pk)
        queued = [w.pk for w in windows if w.status == BackfillWindow.Status.QUEUED]
        transaction.on_commit(lambda: backfill_windows_send(queued))
    backfill.refresh_from_db()
    log.info("backfill created", backfill_id=backfill.pk, dataset=contract.id, windows=len(windows))
    return backfill


def backfill_windows_send(window_ids: Iterable[int], *, countdown: float | None = None) -> int:
    """Send one task per window to the backfill queue; a broker error is logged (the sweep sends again)."""
    sent = 0
    for window_id in window_ids:
        try:
            celery_app.send_task(WINDOW_TASK, args=(window_id,), countdown=countdown)
        except TRANSIENT_ERRORS:
            log.warning("backfill window not sent; the sweep will", window_id=window_id, exc_info=True)
            continue
        sent += 1
    return sent


def backfill_window_run(
    *,
    window_id: int,
    transport: httpx.BaseTransport | None = None,
    keys: dict[str, str] | None = None,
) -> BackfillWindow | None:
    """Claim a queued window and run it; None when it is not queued (claimed by another worker, finished,
    cancelled). ``transport`` and ``keys`` stand in for the providers (a replay), as in ``feed_fetch``."""
    claimed = BackfillWindow.objects.filter(pk=window_id, status=BackfillWindow.Status.QUEUED).update(
        status=BackfillWindow.Status.RUNNING,
        claimed_at=timezone.now(),
        attempts=F("attempts") + 1,
        error_code="",
        error="",
    )
    if not claimed:
        return None
    window = BackfillWindow.objects.select_related("backfill").get(pk=window_id)
    contract = contract_get(dataset_id=window.backfill.dataset)
    try:
        if contract.kind == "vendor_eod":
            outcome = _workbook_ingest(window)
        else:
            outcome = _feed_fetch(window, contract, transport=transport, keys=keys)
    except TRANSIENT_ERRORS:
        # Back to queued so the task's own retry can claim it again (else it waits for the sweep).
        BackfillWindow.objects.filter(pk=window_id, status=BackfillWindow.Status.RUNNING).update(
            status=BackfillWindow.Status.QUEUED, claimed_at=None
        )
        raise
    except Exception as exc:  # anything else is this window's failure, recorded, never a redelivery loop
        log.exception("backfill window failed", window_id=window_id)
        outcome = {
            "status": BackfillWindow.Status.FAILED,
            "error_code": "internal_error",
            "error": f"{type(exc).__name__}: {exc}"[:2000],
        }
    return _window_finish(window, **outcome)


def _feed_fetch(
    window: BackfillWindow,
    contract: DatasetContract,
    *,
    transport: httpx.BaseTransport | None,
    keys: dict[str, str] | None,
) -> dict[str, object]:
    run = feed_fetch(
        provider=contract.provider,
        dataset=contract.dataset,
        window=Window(window.window_start, window.window_end),
        transport=transport,
        keys=keys,
    )
    if run is None:
        return {
            "status": BackfillWindow.Status.FAILED,
            "error_code": "window_busy",
            "error": "Another fetch of this window was running; retry the backfill.",
        }
    failed = run.status != run.Status.SUCCEEDED
    return {
        "status": BackfillWindow.Status.FAILED if failed else BackfillWindow.Status.SUCCEEDED,
        "fetch_run": run,
        "error_code": run.error_code if failed else "",
        "error": run.error if failed else "",
    }


def _workbook_ingest(window: BackfillWindow) -> dict[str, object]:
    path = Path(window.source_file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return {"status": BackfillWindow.Status.FAILED, "error_code": "no_file", "error": str(exc)}
    try:
        created = ingest_run_create(data=data, file_name=path.name, source=IngestRun.Source.COMMAND)
    except PayloadTooLargeError as exc:
        return {"status": BackfillWindow.Status.FAILED, "error_code": "file_too_large", "error": str(exc)}
    run = ingest_run_execute(run_id=created.run.pk) if created.created else created.run
    if run.status in (IngestRun.Status.QUEUED, IngestRun.Status.RUNNING):  # another worker has the run
        run = ingest_run_execute(run_id=run.pk)
    failed = run.status == IngestRun.Status.FAILED
    return {
        "status": BackfillWindow.Status.FAILED if failed else BackfillWindow.Status.SUCCEEDED,
        "ingest_run": run,
        "error_code": run.error_code if failed else "",
        "error": run.error_message if failed else "",
    }


def _window_finish(window: BackfillWindow, **fields: object) -> BackfillWindow:
    with transaction.atomic():
        changed = BackfillWindow.objects.filter(pk=window.pk, status=BackfillWindow.Status.RUNNING).update(
            finished_at=timezone.now(), **fields
        )
        if not changed:  # the sweep took it back meanwhile: its next run records the outcome
            log.warning("backfill window finished after it was re-queued", window_id=window.pk)
        _status_refresh(window.backfill_id)
    window.refresh_from_db()
    return window


def _status_refresh(backfill_id: int) -> None:
    """Derive the backfill's status from its windows (under its row lock): running while any is queued or
    running; then failed if any failed, else succeeded. A cancelled backfill stays cancelled."""
    backfill = Backfill.objects.select_for_update().get(pk=backfill_id)
    if backfill.status == Backfill.Status.CANCELLED:
        return
    counts = backfill.windows.aggregate(
        active=Count(
            "id", filter=Q(status__in=[BackfillWindow.Status.QUEUED, BackfillWindow.Status.RUNNING])
        ),
        failed=Count("id", filter=Q(status=BackfillWindow.Status.FAILED)),
    )
    if counts["active"]:
        status, finished = Backfill.Status.RUNNING, None
    else:
        status = Backfill.Status.FAILED if counts["failed"] else Backfill.Status.SUCCEEDED
        finished = backfill.finished_at or timezone.now()
    if (status, finished) != (backfill.status, backfill.finished_at):
        backfill.status, backfill.finished_at = status, finished
        backfill.save(update_fields=["status", "finished_at"])


def backfill_retry(*, backfill: Backfill, tenant_schema: str) -> Backfill:
    """Queue the failed windows again (the others keep their outcome); ConflictError when none failed."""
    now = timezone.now()
    with transaction.atomic():
        locked = Backfill.objects.select_for_update().get(pk=backfill.pk)
        failed = list(locked.windows.filter(status=BackfillWindow.Status.FAILED).values_list("pk", flat=True))
        contract = contract_get(dataset_id=locked.dataset)
        if contract.kind == "vendor_eod":
            failed = _workbooks_refind(contract, locked, failed)
        if not failed:
            raise ConflictError(
                "The backfill has no failed window to retry (a vendor day needs its workbook in the folder)."
            )
        BackfillWindow.objects.filter(pk__in=failed).update(
            status=BackfillWindow.Status.QUEUED, enqueued_at=now, finished_at=None, claimed_at=None
        )
        retried = failed
        locked.status, locked.finished_at = Backfill.Status.RUNNING, None
        locked.save(update_fields=["status", "finished_at"])
        _status_refresh(locked.pk)
        audit_append(
            action="backfill.retry",
            resource_type="backfill",
            resource_id=locked.pk,
            changes={"windows": len(retried)},
            schema_name=tenant_schema,
        )
        transaction.on_commit(lambda: backfill_windows_send(retried))
    locked.refresh_from_db()
    return locked


def _workbooks_refind(contract: DatasetContract, backfill: Backfill, window_ids: list[int]) -> list[int]:
    """The failed EOD windows that have a workbook now (a file dropped in after the first run)."""
    files = _workbooks(contract, Path(backfill.source_dir) if backfill.source_dir else None)
    runnable = []
    for window in BackfillWindow.objects.filter(pk__in=window_ids):
        path = files.get(window.window_start.date(), "")
        if path:
            if path != window.source_file:
                window.source_file = path
                window.save(update_fields=["source_file"])
            runnable.append(window.pk)
    return runnable


def backfill_cancel(*, backfill: Backfill, tenant_schema: str) -> Backfill:
    """Cancel the windows not started yet (running ones finish); ConflictError when already finished."""
    with transaction.atomic():
        locked = Backfill.objects.select_for_update().get(pk=backfill.pk)
        if locked.status in FINISHED:
            raise ConflictError(f"The backfill is {locked.status} already.")
        cancelled = locked.windows.filter(status=BackfillWindow.Status.QUEUED).update(
            status=BackfillWindow.Status.CANCELLED, finished_at=timezone.now()
        )
        locked.status, locked.finished_at = Backfill.Status.CANCELLED, timezone.now()
        locked.save(update_fields=["status", "finished_at"])
        audit_append(
            action="backfill.cancel",
            resource_type="backfill",
            resource_id=locked.pk,
            changes={"windows_cancelled": cancelled},
            schema_name=tenant_schema,
        )
    return locked


def backfill_sweep(*, now: datetime) -> int:
    """Queue again the windows whose worker died (running past ``AURUM_BACKFILL_CLAIM_TIMEOUT_SECONDS``)
    and send again the queued windows no worker took in that time (a lost message); how many were sent."""
    cutoff = now - timedelta(seconds=settings.AURUM_BACKFILL_CLAIM_TIMEOUT_SECONDS)
    with transaction.atomic():
        stale = list(
            BackfillWindow.objects.select_for_update(skip_locked=True)
            .filter(
                Q(status=BackfillWindow.Status.RUNNING, claimed_at__lt=cutoff)
                | Q(status=BackfillWindow.Status.QUEUED, enqueued_at__lt=cutoff)
            )
            .values_list("pk", flat=True)
        )
        BackfillWindow.objects.filter(pk__in=stale).update(
            status=BackfillWindow.Status.QUEUED,
            enqueued_at=now,
            claimed_at=None,
            error_code="claim_expired",
            error="Re-queued: the window's worker did not finish it in time (did it die?).",
        )
        transaction.on_commit(lambda: backfill_windows_send(stale))
    if stale:
        log.warning("backfill windows re-queued", windows=len(stale))
    return len(stale)
