"""The demo's scenario and PPA contract: signing in as acme's analyst shows a scenario with a finished run and
a valued PPA (issue 10). Made through the same services as the portal and the API; the run is computed here,
unless the demo's worker (starting meanwhile) takes it first, and then the seed waits for it. Idempotent: a
second seed finds them and does nothing."""

from __future__ import annotations

import time
from typing import Any

from django_tenants.utils import schema_context

from apps.curves.models import Curve
from apps.ingestion.selectors import curve_asof_dates
from apps.ppa.models import PpaContract
from apps.ppa.services import ppa_contract_create, ppa_valuate_curve, ppa_valuate_scenario_run
from apps.scenarios.models import Scenario, ScenarioRun
from apps.scenarios.services.execution import scenario_run_execute
from apps.scenarios.services.inputs import CurveSelection, RunOptions
from apps.scenarios.services.runs import scenario_run_submit
from apps.scenarios.services.scenarios import scenario_create
from aurum.errors import NotFoundError
from tenants.models import Tenant
from tenants.selectors import tenant_datasets

SCENARIO_NAME = "Carbon tax 2027 with gas uncertainty"
COUNTERPARTY = "Nordsee Wind GmbH"
ASSUMPTIONS: list[dict[str, Any]] = [
    {
        "driver_type": "policy",
        "name": "carbon tax",
        "payload": {"policy_name": "carbon_tax", "start_year": 2027},
    },
    {"driver_type": "load_growth", "name": "load", "payload": {"annual_growth_pct": 1.5, "start_year": 2026}},
    {
        "driver_type": "stochastic",
        "name": "gas",
        "payload": {"distribution_type": "lognormal", "parameters": {"sigma": 0.25}, "base_driver": {}},
    },
]


def demo_curve(tenant: Tenant) -> Curve | None:
    """German baseload power (EUGP) when the demo loaded it, else the licensed curve with the most tenors."""
    licensed = Curve.objects.filter(dataset__in=tenant_datasets(tenant=tenant))
    german = licensed.filter(location="German", block="BASE", sheet_names__contains=["Fixed Prices - Mid"])
    return (
        german.order_by("-last_asof", "curve_key").first()
        or licensed.order_by("-last_asof", "-tenor_count", "curve_key").first()
    )


def _value_on_newest_vintage(*, tenant: Tenant, contract: PpaContract, curve: Curve) -> None:
    """Value ``contract`` on the newest vintage that holds the curve's monthly prices (a day of its dataset
    may leave the curve out)."""
    for asof in reversed(curve_asof_dates(curve=curve)):
        try:
            ppa_valuate_curve(tenant=tenant, contract=contract, asof=asof)
            return
        except NotFoundError:
            continue


def _finished(run: ScenarioRun, *, timeout: float = 300.0) -> ScenarioRun:
    """``run`` once it has finished (taken and computed by a worker), or as it is after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    run.refresh_from_db()
    while not run.is_finished and time.monotonic() < deadline:
        time.sleep(0.2)
        run.refresh_from_db()
    return run


def demo_work_seed(*, tenant: Tenant) -> dict[str, str]:
    """The demo scenario (with a succeeded run) and PPA contract (with a valuation) of ``tenant``."""
    with schema_context(tenant.schema_name):
        curve = demo_curve(tenant)
        if curve is None:
            return {}
        scenario = Scenario.objects.filter(name=SCENARIO_NAME).first() or scenario_create(
            tenant=tenant,
            name=SCENARIO_NAME,
            actor=None,
            description="Demo: a carbon tax from 2027, 1.5 % load growth, lognormal gas price uncertainty.",
            assumptions=ASSUMPTIONS,
            tags=["demo"],
            selection=CurveSelection(curve_keys=(curve.curve_key,)),
        )
        run = scenario.runs.filter(status=ScenarioRun.Status.SUCCEEDED).first()
        if run is None:
            options = RunOptions(seed=2027, parameters={"n_paths": 2000})
            submitted = scenario_run_submit(tenant=tenant, scenario=scenario, options=options, actor=None)
            # None: a worker took the run first (its dispatch went out when the submission committed).
            run_id = str(submitted.run.pk)
            run = scenario_run_execute(run_id=run_id, tenant=tenant) or _finished(submitted.run)
        contract = PpaContract.objects.filter(terms__counterparty=COUNTERPARTY).first()
        if contract is None:
            contract = ppa_contract_create(
                tenant=tenant,
                terms={
                    "counterparty": COUNTERPARTY,
                    "price_usd_mwh": 62.0,
                    "capacity_mw": 25.0,
                    "capacity_factor": 0.38,
                    "discount_rate": 0.07,
                    # Against ~5 M EUR of discounted cashflows over the curve's 36 months: an IRR of ~2.5 % a
                    # month (250,000 gave 98 % a month, 355,000 % a year: correct, and absurd on a demo page).
                    "upfront_cost": 4_000_000.0,
                },
                curve_key=curve.curve_key,
            )
        if not contract.valuations.exists():
            _value_on_newest_vintage(tenant=tenant, contract=contract, curve=curve)
            if run.status == ScenarioRun.Status.SUCCEEDED:
                ppa_valuate_scenario_run(tenant=tenant, contract=contract, run=run)
        return {"scenario": str(scenario.pk), "run": str(run.pk), "contract": str(contract.pk)}
