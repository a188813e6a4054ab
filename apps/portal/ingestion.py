"""The portal's ingestion pages: ``/ingestion/`` (upload, runs updating live, datasets' freshness), a run's
detail, and the quarantine review of a run.

Operators (a member of the platform's market-data tenant with ``curves:write``, as the API decides) upload
workbooks; every member sees the freshness of the datasets the tenant licenses and the runs of those datasets
(all runs, for the operators' tenant). Uploads go through the same services as ``POST /api/v2/ingest/runs``.
"""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from apps.curves.selectors import curve_dataset_summaries
from apps.datasets.selectors import dataset_status_for_tenant, eod_dataset_states
from apps.ingestion.models import IngestRun
from apps.ingestion.selectors import (
    ingest_run_get,
    ingest_run_list,
    ingest_run_quarantine_rows,
    ingest_runs_active,
)
from apps.ingestion.services import (
    IngestRefusedError,
    IngestTooLargeError,
    ingest_run_create,
    ingest_size_check,
    ingest_upload_check,
)
from apps.ingestion.tasks import ingest_run_enqueue
from apps.portal.access import portal_view
from aurum.api.context import RequestContext
from aurum.errors import ForbiddenError
from tenants.selectors import tenant_datasets

RUNS_PER_PAGE = 20
QUARANTINE_ROWS_PER_PAGE = 100
# Seconds between two refreshes of a page while a run is queued or running.
POLL_SECONDS = 2
# The pipeline's stages in order (apps.ingestion.services.ingest_run_execute records each one's time).
STAGES = ("read", "parse", "enrich", "validate", "write", "catalog")
# A multipart body is the file plus a few short fields (as in the API).
MULTIPART_ALLOWANCE_BYTES = 64 * 1024
UPLOAD_REFUSED = "Only the platform's market-data operators can load vendor datasets."


def can_upload(ctx: RequestContext) -> bool:
    """Who may load vendor workbooks: the operators' tenant's members with curves:write (as in the API)."""
    return bool(ctx.tenant.is_operator and ctx.can("curves:write"))


def _htmx_target(request: HttpRequest) -> str | None:
    """The id of the element an htmx request will swap (django-htmx's ``request.htmx``), else None."""
    details = getattr(request, "htmx", None)
    return details.target if details else None


def _page(request: HttpRequest, items: Any, per_page: int) -> Page:  # type: ignore[type-arg]
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def _freshness(ctx: RequestContext) -> list[Any]:
    """The licensed vendor datasets with their curves, latest as-of and contract status (decision 0041)."""
    licensed = tenant_datasets(tenant=ctx.tenant)
    statuses = dataset_status_for_tenant(tenant=ctx.tenant, now=timezone.now(), licensed=licensed)
    summaries = curve_dataset_summaries(datasets=licensed)
    return eod_dataset_states(licensed=licensed, statuses=statuses, summaries=summaries)


@require_safe
@portal_view("curves:read")
def ingestion_view(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    runs = _page(request, ingest_run_list(tenant=ctx.tenant), RUNS_PER_PAGE)
    context = {
        "runs": runs,
        "polling": ingest_runs_active(tenant=ctx.tenant),
        "poll_seconds": POLL_SECONDS,
        "is_operator": ctx.tenant.is_operator,
        "can_upload": can_upload(ctx),
        "limit_bytes": settings.AURUM_INGEST_MAX_BYTES,
    }
    context["freshness"] = _freshness(ctx)
    if _htmx_target(request) == "live":  # the polled part: datasets and runs
        return render(request, "portal/ingestion/_live.html", context)
    return render(request, "portal/ingestion/index.html", context)


@require_POST
@portal_view("curves:write")
def ingestion_upload_view(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    """Take one or more workbooks (``files``). The page's script sends one file per request and reads JSON;
    without script the form posts them all and the answer is the ingestion page with a message per file."""
    if not ctx.tenant.is_operator:
        raise ForbiddenError(UPLOAD_REFUSED)
    wants_json = "application/json" in request.headers.get("Accept", "")
    limit = settings.AURUM_INGEST_MAX_BYTES
    if _content_length(request) > limit + MULTIPART_ALLOWANCE_BYTES:
        error = f"The upload is larger than the {limit:,}-byte file limit allows. Send one file at a time."
        return _upload_answer(request, [], error=error, status=413, wants_json=wants_json)
    uploads = request.FILES.getlist("files")
    if not uploads:
        error = "Choose one or more EOD workbooks (.xlsx) to upload."
        return _upload_answer(request, [], error=error, status=400, wants_json=wants_json)
    results: list[dict[str, Any]] = []
    for upload in uploads:
        name, source = upload.name or "upload.xlsx", IngestRun.Source.PORTAL
        try:
            ingest_size_check(
                file_name=name, size_bytes=upload.size or 0, source=source, requested_by=ctx.user
            )
            content = upload.read()
            ingest_upload_check(data=content, file_name=name, source=source, requested_by=ctx.user)
            created = ingest_run_create(data=content, file_name=name, source=source, requested_by=ctx.user)
        except (IngestTooLargeError, IngestRefusedError) as error:
            results.append(
                {"file_name": name, "run_id": error.run.pk, "error": error.detail, "status": error.status}
            )
            continue
        if created.created:
            ingest_run_enqueue(created.run)
        results.append(
            {
                "file_name": name,
                "run_id": created.run.pk,
                "run_status": created.run.status,
                "created": created.created,
                "url": f"/ingestion/runs/{created.run.pk}/",
                "status": 202 if created.created else 200,
            }
        )
    status = max(r["status"] for r in results) if any("error" in r for r in results) else 202
    return _upload_answer(request, results, error="", status=status, wants_json=wants_json)


def _upload_answer(
    request: HttpRequest, results: list[dict[str, Any]], *, error: str, status: int, wants_json: bool
) -> HttpResponse:
    if wants_json:
        return JsonResponse({"files": results, "error": error}, status=status)
    if error:
        messages.error(request, error)
    for result in results:
        if "error" in result:
            messages.error(request, result["error"])
        elif result["created"]:
            messages.success(request, f"{result['file_name']}: queued as run {result['run_id']}.")
        else:
            messages.info(
                request,
                f"{result['file_name']}: these exact bytes were already loaded (run {result['run_id']}).",
            )
    return redirect("portal-ingestion")


def _content_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


@require_safe
@portal_view("curves:read")
def ingestion_run_view(request: HttpRequest, ctx: RequestContext, run_id: int) -> HttpResponse:
    run = ingest_run_get(tenant=ctx.tenant, run_id=run_id)
    context = {
        "run": run,
        "stages": _stages(run),
        "polling": not run.is_finished or run.error_code == "retrying",
        "poll_seconds": POLL_SECONDS,
        "is_operator": ctx.tenant.is_operator,
        "sheets": sorted(run.rows_per_sheet.items()),
        "reasons": sorted(run.quarantine_reasons.items(), key=lambda item: (-item[1], item[0])),
    }
    if _htmx_target(request) == "run":
        return render(request, "portal/ingestion/_run.html", context)
    return render(request, "portal/ingestion/run.html", context)


def _stages(run: IngestRun) -> list[dict[str, Any]]:
    """Each stage with its state and milliseconds: ``done``; ``current`` (the next one of a running run);
    ``failed`` (the last one a failed run started: its time is recorded up to the failure); ``waiting``."""
    done = run.stage_ms or {}
    failed = run.status == IngestRun.Status.FAILED
    last = max((STAGES.index(name) for name in done if name in STAGES), default=-1)
    stages = []
    for index, name in enumerate(STAGES):
        if failed and index == last:
            state = "failed"
        elif name in done:
            state = "done"
        elif run.status == IngestRun.Status.RUNNING and index == last + 1:
            state = "current"
        else:
            state = "waiting"
        stages.append({"name": name, "state": state, "ms": done.get(name)})
    return stages


@require_safe
@portal_view("curves:read")
def ingestion_quarantine_view(request: HttpRequest, ctx: RequestContext, run_id: int) -> HttpResponse:
    """Each row a run held back, with its reasons (operators' review); ``?reason=`` keeps one reason."""
    run = ingest_run_get(tenant=ctx.tenant, run_id=run_id)
    if not ctx.tenant.is_operator:
        raise ForbiddenError("Quarantine review is for the platform's market-data operators.")
    rows = ingest_run_quarantine_rows(run=run)
    reason = request.GET.get("reason", "")
    shown = [row for row in rows if reason in row["reasons"]] if reason else rows
    context = {
        "run": run,
        "rows": _page(request, shown, QUARANTINE_ROWS_PER_PAGE),
        "total": len(rows),
        "reason": reason,
        "reasons": sorted(run.quarantine_reasons.items(), key=lambda item: (-item[1], item[0])),
    }
    return render(request, "portal/ingestion/quarantine.html", context)
