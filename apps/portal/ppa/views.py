"""``/ppa/``: contracts (list, create, edit), valuation against the latest curves or a scenario run, and
each valuation with its cashflow chart, NPV and IRR. Same services, permissions and isolation as the API
(``apps.ppa.api.v2``): reading needs scenarios:read, writing terms scenarios:write, valuing scenarios:run."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from apps.curves.selectors import curve_catalog_for_keys, curve_catalog_power
from apps.portal.access import portal_view
from apps.portal.ppa.forms import TERM_FIELDS, ContractForm, ValuationForm
from apps.portal.scenarios.runs import curve_label
from apps.ppa.models import PpaContract, PpaValuation
from apps.ppa.selectors import (
    ppa_contract_get,
    ppa_contract_list,
    ppa_latest_valuations,
    ppa_valuation_get,
    ppa_valuation_list,
    ppa_valuation_rows,
    scenario_run_get,
)
from apps.ppa.services import (
    PpaValued,
    ppa_contract_create,
    ppa_contract_update,
    ppa_valuate_curve,
    ppa_valuate_scenario_run,
)
from apps.scenarios.selectors import runs_succeeded_recent
from aurum.api.context import RequestContext
from aurum.errors import InvalidInputError, NotFoundError, UnprocessableError
from tenants.models import Tenant

READ, WRITE, RUN = "scenarios:read", "scenarios:write", "scenarios:run"
PAGE_SIZE = 25
HISTORY = 20
RUN_CHOICES = 50
SUGGESTIONS = 500


def terms_shown(terms: dict[str, Any]) -> dict[str, Any]:
    """The terms with every key a page shows (absent ones None); the price whichever name it was given."""
    shown: dict[str, Any] = {name: terms.get(name) for name in TERM_FIELDS}
    shown["price"] = terms.get("price_usd_mwh", terms.get("ppa_price"))
    return shown


@require_safe
@portal_view(READ)
def ppa_contract_list_view(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    page = Paginator(ppa_contract_list(counterparty=q or None), PAGE_SIZE).get_page(request.GET.get("page"))
    contracts = list(page.object_list)
    latest = ppa_latest_valuations(contracts=contracts)
    rows = [{"contract": c, "terms": terms_shown(c.terms), "latest": latest.get(c.pk)} for c in contracts]
    return render(request, "portal/ppa/list.html", {"rows": rows, "page": page, "q": q})


def _curve_suggestions(tenant: Tenant) -> list[tuple[str, str]]:
    return [
        (c.curve_key, curve_label(c, c.curve_key))
        for c in curve_catalog_power(tenant=tenant, limit=SUGGESTIONS)
    ]


def _contract_form_page(
    request: HttpRequest, tenant: Tenant, form: ContractForm, contract: PpaContract | None
) -> HttpResponse:
    form.mark_errors()
    context = {"form": form, "contract": contract, "curves": _curve_suggestions(tenant)}
    return render(request, "portal/ppa/form.html", context)


_CONTRACT_ALIASES = {"terms.ppa_price": "price_usd_mwh", "terms": "__all__"}


@require_http_methods(["GET", "POST"])
@portal_view(WRITE)
def ppa_contract_create_view(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    form = ContractForm(request.POST or None)
    if request.method == "GET":
        return _contract_form_page(request, ctx.tenant, form, None)
    if form.is_valid():
        try:
            contract = ppa_contract_create(
                tenant=ctx.tenant,
                terms=form.terms(),
                instrument_id=form.cleaned_data["instrument_id"],
                curve_key=form.cleaned_data["curve_key"].strip(),
                actor=ctx.user,
            )
        except InvalidInputError as error:
            form.attach_issues(error.issues, aliases=_CONTRACT_ALIASES)
        else:
            return redirect("portal-ppa-contract", contract_id=contract.pk)
    return _contract_form_page(request, ctx.tenant, form, None)


@require_http_methods(["GET", "POST"])
@portal_view(WRITE)
def ppa_contract_edit_view(request: HttpRequest, ctx: RequestContext, contract_id: str) -> HttpResponse:
    contract = ppa_contract_get(contract_id=contract_id)
    initial = ContractForm.initial_for(contract.terms, contract.curve_key, contract.instrument_id)
    form = ContractForm(request.POST or None, initial=initial)
    if request.method == "GET":
        return _contract_form_page(request, ctx.tenant, form, contract)
    if form.is_valid():
        try:
            ppa_contract_update(
                tenant=ctx.tenant,
                contract=contract,
                terms=form.terms(contract.terms),
                instrument_id=form.cleaned_data["instrument_id"],
                curve_key=form.cleaned_data["curve_key"].strip(),
                actor=ctx.user,
            )
        except InvalidInputError as error:
            form.attach_issues(error.issues, aliases=_CONTRACT_ALIASES)
        else:
            return redirect("portal-ppa-contract", contract_id=contract.pk)
    return _contract_form_page(request, ctx.tenant, form, contract)


def _run_choices() -> list[tuple[str, str]]:
    return [
        (str(run.pk), f"{run.scenario.name} · base {run.base_asof} · seed {run.seed}")
        for run in runs_succeeded_recent(limit=RUN_CHOICES)
    ]


def _contract_page(
    request: HttpRequest, tenant: Tenant, contract: PpaContract, form: ValuationForm
) -> HttpResponse:
    form.mark_errors()
    curves = curve_catalog_for_keys(tenant=tenant, curve_keys=[contract.curve_key])
    curve_name = curve_label(curves.get(contract.curve_key), contract.curve_key)
    # The curve field stays empty for the contract's own curve, and says which curve that is by its name.
    form.fields["curve_key"].widget.attrs["placeholder"] = (
        f"The contract's: {curve_name}" if contract.curve_key else "Pick a curve"
    )
    context = {
        "contract": contract,
        "curve_name": curve_name,
        "curves": _curve_suggestions(tenant),
        "terms": terms_shown(contract.terms),
        "form": form,
        "history": list(ppa_valuation_list(contract=contract)[:HISTORY]),
    }
    return render(request, "portal/ppa/detail.html", context)


@require_safe
@portal_view(READ)
def ppa_contract_detail_view(request: HttpRequest, ctx: RequestContext, contract_id: str) -> HttpResponse:
    contract = ppa_contract_get(contract_id=contract_id)
    form = ValuationForm(runs=_run_choices() if ctx.can(RUN) else [])
    return _contract_page(request, ctx.tenant, contract, form)


_VALUATION_ALIASES = {"scenario_run_id": "run", "terms": "__all__"}


def _valuate(ctx: RequestContext, contract: PpaContract, form: ValuationForm) -> PpaValued:
    data = form.cleaned_data
    if data["source"] == "run":
        return ppa_valuate_scenario_run(
            tenant=ctx.tenant,
            contract=contract,
            run=scenario_run_get(run_id=data["run"]),
            curve_key=data["curve_key"].strip() or None,
            options=form.options(),
            actor=ctx.user,
        )
    return ppa_valuate_curve(
        tenant=ctx.tenant,
        contract=contract,
        curve_key=data["curve_key"].strip() or None,
        asof=data["asof"],
        options=form.options(),
        actor=ctx.user,
    )


@require_POST
@portal_view(RUN)
def ppa_valuate_view(request: HttpRequest, ctx: RequestContext, contract_id: str) -> HttpResponse:
    contract = ppa_contract_get(contract_id=contract_id)
    form = ValuationForm(request.POST, runs=_run_choices())
    if form.is_valid():
        try:
            valued = _valuate(ctx, contract, form)
        except InvalidInputError as error:
            form.attach_issues(error.issues, aliases=_VALUATION_ALIASES)
        except NotFoundError as error:  # the curve (not licensed, or no prices that day) or the run
            field = "run" if form.cleaned_data["source"] == "run" else "curve_key"
            form.add_error(
                field, f"{error.detail} Check the {'run' if field == 'run' else 'curve and as-of'}."
            )
        except UnprocessableError as error:
            form.add_error(None, error.detail)
        else:
            return redirect("portal-ppa-valuation", contract_id=contract.pk, valuation_id=valued.valuation.pk)
    return _contract_page(request, ctx.tenant, contract, form)


def cashflow_chart(cashflows: list[dict[str, Any]], currency: str) -> dict[str, Any]:
    return {
        "x_labels": [row["period_start"].strftime("%b-%y") for row in cashflows],
        "x_title": "Month",
        "y_label": currency or "Cashflow",
        "decimals": 0,
        "series": [
            {"label": "Cashflow", "role": "bar", "values": [float(row["cashflow"]) for row in cashflows]},
            {"label": "Discounted", "role": "compare", "values": [row["discounted"] for row in cashflows]},
        ],
    }


def valuation_cashflows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The monthly cashflow rows of a stored valuation, in period order."""
    chosen = [row for row in rows if row["metric"] == "cashflow" and row["period"] is not None]
    return sorted(chosen, key=lambda row: row["period"])


@require_safe
@portal_view(READ)
def ppa_valuation_view(
    request: HttpRequest, ctx: RequestContext, contract_id: str, valuation_id: str
) -> HttpResponse:
    contract = ppa_contract_get(contract_id=contract_id)
    valuation: PpaValuation = ppa_valuation_get(contract=contract, valuation_id=valuation_id)
    rows = ppa_valuation_rows(tenant=ctx.tenant, contract=contract, valuation=valuation)
    cashflows = valuation_cashflows(rows)
    irr_annual = None if valuation.irr is None else (1.0 + valuation.irr) ** 12 - 1.0
    curves = curve_catalog_for_keys(tenant=ctx.tenant, curve_keys=[valuation.curve_key])
    context = {
        "contract": contract,
        "valuation": valuation,
        "terms_used": terms_shown(valuation.terms),
        "cashflows": cashflows,
        "irr_percent": None if valuation.irr is None else valuation.irr * 100,
        "irr_annual_percent": None if irr_annual is None else irr_annual * 100,
        "curve_name": curve_label(curves.get(valuation.curve_key), valuation.curve_key),
        "chart": cashflow_chart(cashflows, valuation.currency),
    }
    return render(request, "portal/ppa/valuation.html", context)
