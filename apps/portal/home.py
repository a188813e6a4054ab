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
from apps.datasets.selectors import dataset_status_for_tenant, eod_dataset_states
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
    # Every licensed dataset's contract status (apps/datasets, decisions 0035 and 0041): the one notion of
    # lateness, shown on the datasets table and in full under "Publication SLAs".
    slas = dataset_status_for_tenant(tenant=ctx.tenant, now=now, licensed=licensed)
    datasets = eod_dataset_states(licensed=licensed, statuses=slas, summaries=summaries)
    manages_tokens = token_reach(ctx.permissions) is not None
    context: dict[str, Any] = {
        "datasets": datasets,
        "has_curves": any(d.curves for d in datasets),
        "slas": slas,
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
