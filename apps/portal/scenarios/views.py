"""``/scenarios/``: the list, create and edit (a form per driver type), a scenario's page, and run submission.

Reads go through ``apps.scenarios.selectors`` and writes through the services the API uses, so validation,
budgets and isolation are the API's: another tenant's scenario is simply not in this schema (404).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from apps.curves.selectors import curve_catalog_for_keys, curve_dimension_values
from apps.portal.access import portal_view
from apps.portal.scenarios.forms import ScenarioForm
from apps.portal.scenarios.runs import curve_label
from apps.scenarios.models import Scenario
from apps.scenarios.selectors import run_list, scenario_get, scenario_last_runs, scenario_list
from apps.scenarios.services.inputs import DEFAULT_PATHS, MAX_PATHS, RunOptions, validation_report
from apps.scenarios.services.runs import scenario_run_submit
from apps.scenarios.services.scenarios import scenario_create, scenario_update
from apps.usage.quotas import usage_credential
from aurum.api.context import RequestContext
from aurum.errors import ConflictError, InvalidInputError, RateLimitedError, UnprocessableError
from aurum.lakehouse.queries import CurveFilters
from tenants.selectors import tenant_datasets

PAGE_SIZE = 25
RUNS_SHOWN = 20
CURVES_SHOWN = 10
SUGGESTIONS = 300
READ, WRITE, RUN = "scenarios:read", "scenarios:write", "scenarios:run"


@require_safe
@portal_view(READ)
def scenario_list_view(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    name = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    if status not in Scenario.Status.values:
        status = ""
    page = Paginator(scenario_list(name=name or None, status=status or None), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    scenarios = list(page.object_list)
    last_runs = scenario_last_runs(scenarios=scenarios)
    rows = [{"scenario": s, "last_run": last_runs.get(s.pk)} for s in scenarios]
    context = {"rows": rows, "page": page, "q": name, "status": status, "statuses": Scenario.Status.values}
    template = "portal/scenarios/_list_rows.html" if request.htmx else "portal/scenarios/list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


def _form_page(
    request: HttpRequest, ctx: RequestContext, form: ScenarioForm, *, scenario: Scenario | None
) -> HttpResponse:
    # A form shown again with its messages answers 200, as Django's form views do: correcting a form is a
    # normal step, not an error the browser should log.
    licensed = CurveFilters(datasets=tuple(sorted(tenant_datasets(tenant=ctx.tenant))))
    form.suggest(curve_dimension_values(filters=licensed, per_dim_limit=SUGGESTIONS))
    context = {"form": form, "scenario": scenario, "editing": scenario is not None}
    return render(request, "portal/scenarios/form.html", context)


def _save(ctx: RequestContext, form: ScenarioForm, scenario: Scenario | None) -> Scenario | None:
    """Create or update through the services; None (with the issues on the form) when refused."""
    selection = form.selection()
    nodes = form.nodes()
    if form.has_errors:
        return None
    try:
        if scenario is None:
            return scenario_create(
                tenant=ctx.tenant,
                name=form.name.value.strip(),
                actor=ctx.user,
                description=form.description.value,
                assumptions=nodes,
                tags=form.tag_list(),
                selection=selection,
            )
        changes: dict[str, Any] = {}
        if form.status is not None:
            changes["status"] = form.status.value
        return scenario_update(
            scenario=scenario,
            tenant=ctx.tenant,
            name=form.name.value.strip(),
            description=form.description.value,
            assumptions=nodes,
            tags=form.tag_list(),
            selection=selection,
            **changes,
        )
    except InvalidInputError as error:
        form.attach_issues(error.issues or ())
        if not error.issues:
            form.errors.append(error.detail)
    except ConflictError as error:
        form.name.errors.append(f"{error.detail} Choose another name.")
    return None


@require_http_methods(["GET", "POST"])
@portal_view(WRITE)
def scenario_create_view(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    if request.method == "GET":
        return _form_page(request, ctx, ScenarioForm.blank(), scenario=None)
    form = ScenarioForm.from_post(request.POST)
    if "save" not in request.POST:  # an assumption was added or removed: show the form again
        return _form_page(request, ctx, form, scenario=None)
    saved = _save(ctx, form, None)
    if saved is None:
        return _form_page(request, ctx, form, scenario=None)
    return redirect("portal-scenario", scenario_id=saved.pk)


@require_http_methods(["GET", "POST"])
@portal_view(WRITE)
def scenario_edit_view(request: HttpRequest, ctx: RequestContext, scenario_id: str) -> HttpResponse:
    scenario = scenario_get(scenario_id=scenario_id)
    if request.method == "GET":
        return _form_page(request, ctx, ScenarioForm.blank(editing=scenario), scenario=scenario)
    form = ScenarioForm.from_post(request.POST, editing=scenario)
    if "save" not in request.POST:
        return _form_page(request, ctx, form, scenario=scenario)
    saved = _save(ctx, form, scenario)
    if saved is None:
        return _form_page(request, ctx, form, scenario=scenario)
    return redirect("portal-scenario", scenario_id=saved.pk)


def _payload_shown(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (name, json.dumps(value) if isinstance(value, dict | list) else str(value))
        for name, value in payload.items()
    ]


def _detail_context(ctx: RequestContext, scenario: Scenario, **extra: Any) -> dict[str, Any]:
    assumptions = list(scenario.assumptions.all())
    catalog = curve_catalog_for_keys(tenant=ctx.tenant, curve_keys=list(scenario.curve_keys[:CURVES_SHOWN]))
    report = validation_report([a.as_node() for a in assumptions])
    notes: dict[int, list[dict[str, Any]]] = {}
    general = []
    for item in report["issues"]:
        path = item["field_path"] or ""
        if path.startswith("assumptions["):
            notes.setdefault(int(path[len("assumptions[") : path.index("]")]), []).append(item)
        else:
            general.append(item)
    runs = list(run_list(scenario=scenario)[:RUNS_SHOWN])
    return {
        "scenario": scenario,
        "assumptions": [
            {"assumption": a, "payload": _payload_shown(a.payload), "notes": notes.get(i, [])}
            for i, a in enumerate(assumptions)
        ],
        "curves_more": max(len(scenario.curve_keys) - CURVES_SHOWN, 0),
        "curve_names": [curve_label(catalog.get(key), key) for key in scenario.curve_keys[:CURVES_SHOWN]],
        "general_notes": general,
        "report": report,
        "runs": runs,
        "succeeded_runs": [run for run in runs if run.status == "succeeded"],
        "run_form": {"n_paths": str(DEFAULT_PATHS), "seed": "", "errors": {}, "max_paths": MAX_PATHS},
        **extra,
    }


@require_safe
@portal_view(READ)
def scenario_detail_view(request: HttpRequest, ctx: RequestContext, scenario_id: str) -> HttpResponse:
    scenario = scenario_get(scenario_id=scenario_id)
    return render(request, "portal/scenarios/detail.html", _detail_context(ctx, scenario))


def _run_options(data: Any) -> tuple[RunOptions | None, dict[str, str]]:
    errors: dict[str, str] = {}
    raw_paths, raw_seed = data.get("n_paths", "").strip(), data.get("seed", "").strip()
    n_paths = DEFAULT_PATHS
    seed: int | None = None
    try:
        n_paths = int(raw_paths or DEFAULT_PATHS)
        if not 1 <= n_paths <= MAX_PATHS:
            errors["n_paths"] = f"Paths must be between 1 and {MAX_PATHS:,}."
    except ValueError:
        errors["n_paths"] = "Enter a whole number of paths."
    if raw_seed:
        try:
            seed = int(raw_seed)
            if not 0 <= seed < 2**63:
                errors["seed"] = "The seed is a whole number from 0 up."
        except ValueError:
            errors["seed"] = "Enter a whole number, or leave it empty for a random seed."
    if errors:
        return None, errors
    return RunOptions(seed=seed, parameters={"n_paths": n_paths}), errors


@require_POST
@portal_view(RUN)
def scenario_run_submit_view(request: HttpRequest, ctx: RequestContext, scenario_id: str) -> HttpResponse:
    scenario = scenario_get(scenario_id=scenario_id)
    options, errors = _run_options(request.POST)
    run_error = ""
    if options is not None:
        try:
            submitted = scenario_run_submit(
                tenant=ctx.tenant,
                scenario=scenario,
                options=options,
                actor=ctx.user,
                credential=usage_credential(ctx),
            )
        except InvalidInputError as error:
            for issue in error.issues:
                key = "n_paths" if (issue.field or "").endswith("n_paths") else ""
                if key:
                    errors[key] = issue.message
                else:
                    run_error = " ".join(filter(None, [run_error, issue.message, issue.suggestion or ""]))
            run_error = run_error or ("" if errors else error.detail)
        except (ConflictError, UnprocessableError, RateLimitedError) as error:
            run_error = error.detail
        else:
            return redirect("portal-scenario-run", scenario_id=scenario.pk, run_id=submitted.run.pk)
    run_form = {
        "n_paths": request.POST.get("n_paths", ""),
        "seed": request.POST.get("seed", ""),
        "errors": errors,
        "max_paths": MAX_PATHS,
    }
    context = _detail_context(ctx, scenario, run_form=run_form, run_error=run_error)
    return render(request, "portal/scenarios/detail.html", context)
