"""A scenario run's page (live progress, then the P10/P50/P90 chart and the attribution per driver), its
status as JSON for the page's script, its outputs as CSV or Parquet, and the comparison of two runs."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from apps.curves.models import Curve
from apps.curves.selectors import curve_catalog_for_keys
from apps.portal.access import portal_view
from apps.portal.scenarios.results import (
    compare_chart,
    compare_rows,
    curve_result,
    tenor_types_of,
)
from apps.scenarios.api.serializers import outputs_csv
from apps.scenarios.models import ScenarioRun
from apps.scenarios.selectors import (
    OUTPUT_COLUMNS,
    OutputFilters,
    run_get,
    run_outputs_page,
    runs_compare,
    runs_succeeded_recent,
    scenario_get,
)
from apps.scenarios.services.runs import scenario_run_cancel
from aurum.api.arrow import arrow_parquet
from aurum.api.context import RequestContext
from aurum.api.responses import file_response
from aurum.errors import InvalidInputError, NotFoundError
from tenants.models import Tenant

READ, RUN = "scenarios:read", "scenarios:run"
RUN_CHOICES = 50


def curve_label(curve: Curve | None, key: str) -> str:
    if curve is None:
        return key
    parts = [curve.location or curve.iso, curve.product, curve.block]
    return " · ".join(part for part in parts if part) or key


def _curve_choices(tenant: Tenant, run: ScenarioRun) -> list[dict[str, str]]:
    keys = sorted(run.curve_units) if isinstance(run.curve_units, dict) else []
    catalog = curve_catalog_for_keys(tenant=tenant, curve_keys=keys)
    choices = [{"key": key, "label": curve_label(catalog.get(key), key)} for key in keys]
    return sorted(choices, key=lambda choice: (choice["label"], choice["key"]))


def _result_context(request: HttpRequest, tenant: Tenant, run: ScenarioRun) -> dict[str, Any]:
    curves = _curve_choices(tenant, run)
    if not curves:
        return {"curves": []}
    wanted = request.GET.get("curve", "")
    curve = next((c for c in curves if c["key"] == wanted), curves[0])
    rows = run_outputs_page(
        tenant=tenant, run=run, filters=OutputFilters(metric="mid", curve_key=curve["key"]), limit=None
    ).to_pylist()
    tenor_types = tenor_types_of(rows)
    tenor_type = request.GET.get("tenor", "")
    if tenor_type not in tenor_types:
        tenor_type = tenor_types[0] if tenor_types else "MONTHLY"
    result = curve_result(rows, tenor_type=tenor_type)
    unit = run.curve_units.get(curve["key"], "")
    return {
        "curves": curves,
        "curve": curve,
        "tenor_types": tenor_types,
        "tenor_type": tenor_type,
        "result": result,
        "unit": unit,
        # The chart's spec travels in its data-chart attribute (docs/portal.md), as every portal chart's.
        "chart": result.chart(unit=unit),
    }


@require_safe
@portal_view(READ)
def scenario_run_view(
    request: HttpRequest, ctx: RequestContext, scenario_id: str, run_id: str
) -> HttpResponse:
    scenario = scenario_get(scenario_id=scenario_id)
    run = run_get(run_id=run_id, scenario=scenario)
    context: dict[str, Any] = {
        "scenario": scenario,
        "run": run,
        "events": list(run.events.all()),
        "status": run_status(run),
    }
    if run.status == ScenarioRun.Status.SUCCEEDED:
        context.update(_result_context(request, ctx.tenant, run))
        context["other_runs"] = [r for r in runs_succeeded_recent(limit=RUN_CHOICES) if r.pk != run.pk]
    template = "portal/scenarios/_result.html" if request.htmx else "portal/scenarios/run.html"  # type: ignore[attr-defined]
    return render(request, template, context)


def run_status(run: ScenarioRun) -> dict[str, Any]:
    """What the page's script shows while the run is live (the same fields as the scenario.run.* events)."""
    return {
        "run_id": str(run.pk),
        "status": run.status,
        "progress_percent": run.progress_percent,
        "finished": run.is_finished,
        "error_message": run.error_message or None,
        "error_code": run.error_code or None,
    }


@require_POST
@portal_view(RUN)
def scenario_run_cancel_view(
    request: HttpRequest, ctx: RequestContext, scenario_id: str, run_id: str
) -> HttpResponse:
    """Cancel a queued or running run (it stops between chunks and writes nothing); a finished run stays."""
    scenario = scenario_get(scenario_id=scenario_id)
    run = run_get(run_id=run_id, scenario=scenario)
    scenario_run_cancel(run=run, tenant=ctx.tenant)
    return redirect("portal-scenario-run", scenario_id=scenario.pk, run_id=run.pk)


@require_safe
@portal_view(READ)
def scenario_run_status_view(
    request: HttpRequest, ctx: RequestContext, scenario_id: str, run_id: str
) -> HttpResponse:
    run = run_get(run_id=run_id, scenario=scenario_get(scenario_id=scenario_id))
    response = JsonResponse(run_status(run))
    response["Cache-Control"] = "no-store"
    return response


@require_safe
@portal_view(READ)
def scenario_run_outputs_view(
    request: HttpRequest, ctx: RequestContext, scenario_id: str, run_id: str, fmt: str
) -> HttpResponse:
    """Every output row of the run (all metrics, curves and tenors), as the API's ``format=csv|parquet``."""
    if fmt not in ("csv", "parquet"):
        raise NotFoundError("Outputs download as .csv or .parquet.")
    run = run_get(run_id=run_id, scenario=scenario_get(scenario_id=scenario_id))
    if run.status != ScenarioRun.Status.SUCCEEDED:
        raise NotFoundError("This run has no outputs: only a succeeded run has.")
    table = run_outputs_page(tenant=ctx.tenant, run=run, filters=OutputFilters(), limit=None)
    if fmt == "csv":
        return file_response(
            outputs_csv(table), content_type="text/csv; charset=utf-8", filename=f"scenario_run_{run.pk}.csv"
        )
    return file_response(
        arrow_parquet(table, list(OUTPUT_COLUMNS)),
        content_type="application/vnd.apache.parquet",
        filename=f"scenario_run_{run.pk}.parquet",
    )


def _run_label(run: ScenarioRun) -> str:
    finished = run.completed_at.strftime("%Y-%m-%d %H:%M") if run.completed_at else run.status
    return f"{run.scenario.name} · {finished} · seed {run.seed}"


@require_safe
@portal_view(READ)
def scenario_compare_view(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    """``/scenarios/compare/?a=<run>&b=<run>&curve=&tenor=``: two succeeded runs on one chart."""
    choices = runs_succeeded_recent(limit=RUN_CHOICES)
    context: dict[str, Any] = {"choices": [(str(r.pk), _run_label(r)) for r in choices], "a": "", "b": ""}
    a_id, b_id = request.GET.get("a", ""), request.GET.get("b", "")
    context.update(a=a_id, b=b_id)
    if a_id and b_id:
        run_a, run_b = run_get(run_id=a_id), run_get(run_id=b_id)
        if run_a.pk == run_b.pk:
            raise InvalidInputError.field("b", "Choose two different runs to compare.")
        for run, name in ((run_a, "a"), (run_b, "b")):
            if run.status != ScenarioRun.Status.SUCCEEDED:
                raise InvalidInputError.field(
                    name, f"Only succeeded runs can be compared; this one is {run.status}."
                )
        table = runs_compare(tenant=ctx.tenant, run=run_a, other=run_b, metric="mid").to_pylist()
        keys = sorted({row["curve_key"] for row in table})
        catalog = curve_catalog_for_keys(tenant=ctx.tenant, curve_keys=keys)
        curves = sorted(
            ({"key": k, "label": curve_label(catalog.get(k), k)} for k in keys), key=lambda c: c["label"]
        )
        context.update(run_a=run_a, run_b=run_b, curves=curves)
        if curves:
            wanted = request.GET.get("curve", "")
            curve = next((c for c in curves if c["key"] == wanted), curves[0])
            tenor_types = tenor_types_of([row for row in table if row["curve_key"] == curve["key"]])
            tenor_type = request.GET.get("tenor", "")
            if tenor_type not in tenor_types:
                tenor_type = tenor_types[0]
            rows = compare_rows(table, curve_key=curve["key"], tenor_type=tenor_type)
            unit = run_a.curve_units.get(curve["key"], "")
            context.update(
                curve=curve,
                tenor_types=tenor_types,
                tenor_type=tenor_type,
                rows=rows,
                unit=unit,
                chart=compare_chart(rows, label_a=_run_label(run_a), label_b=_run_label(run_b), unit=unit),
            )
    return render(request, "portal/scenarios/compare.html", context)
