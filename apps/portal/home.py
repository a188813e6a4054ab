"""The portal's home page ``/``: the licensed datasets, their freshness and publication SLAs, the tenant's
recent scenario runs, quarantined rows for operators, and what to do next when there is no data yet."""

from datetime import timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from apps.accounts.selectors import api_token_list, token_reach
from apps.curves.selectors import curve_dataset_summaries
from apps.datasets.selectors import dataset_status_for_tenant
from apps.ingestion.freshness import dataset_freshness, eod_datasets
from apps.ingestion.selectors import ingest_quarantine_summary
from apps.portal.access import portal_view
from apps.scenarios.selectors import run_list
from aurum.api.context import RequestContext
from tenants.selectors import tenant_datasets

RECENT_RUNS = 8
QUARANTINE_DAYS = 7


@require_safe
@portal_view()
def home_view(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    now = timezone.now()
    licensed = tenant_datasets(tenant=ctx.tenant)
    summaries = curve_dataset_summaries(datasets=licensed)
    datasets = [
        {
            "name": name,
            "curves": summaries.get(name, {}).get("curves", 0),
            "freshness": dataset_freshness(
                dataset=name, last_asof=summaries.get(name, {}).get("last_asof"), now=now
            ),
        }
        for name in eod_datasets(licensed)
    ]
    manages_tokens = token_reach(ctx.permissions) is not None
    context: dict[str, Any] = {
        "datasets": datasets,
        "has_curves": any(d["curves"] for d in datasets),
        # Every licensed dataset's contract status: EOD workbooks and feeds (apps/datasets, decision 0035).
        "slas": dataset_status_for_tenant(tenant=ctx.tenant, now=now, licensed=licensed),
        "runs": list(run_list().select_related("scenario")[:RECENT_RUNS])
        if ctx.can("scenarios:read")
        else [],
        "quarantine": (
            ingest_quarantine_summary(tenant=ctx.tenant, since=now - timedelta(days=QUARANTINE_DAYS))
            if ctx.tenant.is_operator
            else None
        ),
        "quarantine_days": QUARANTINE_DAYS,
        "manages_tokens": manages_tokens,
        "tokens": list(api_token_list(credential=ctx).select_related("membership__user")[:10])
        if manages_tokens
        else [],
    }
    return render(request, "portal/home.html", context)
