"""Scenarios and PPA contracts for the portal's page tests, made through the services the pages call, on the
curves of the portal tests' private lake (tests/portal/conftest.py: three EUGP days, two RP days)."""

from __future__ import annotations

from typing import Any

from django_tenants.utils import schema_context

GERMAN_BASE = {"dataset": "vendor:EUGP", "location": "German", "block": "BASE"}
POLICY = {
    "driver_type": "policy",
    "name": "carbon",
    "payload": {"policy_name": "carbon_tax", "start_year": 2026},
}
STOCHASTIC = {
    "driver_type": "stochastic",
    "name": "gas",
    "payload": {"distribution_type": "lognormal", "parameters": {"sigma": 0.3}, "base_driver": {}},
}


def german_power_keys() -> list[str]:
    """The EUGP 'Fixed Prices - Mid' German BASE curve (monthly tenors), as the catalog names it."""
    from apps.curves.models import Curve

    curves = Curve.objects.filter(**GERMAN_BASE, sheet_names__contains=["Fixed Prices - Mid"])
    return sorted(curves.values_list("curve_key", flat=True))[:1]


def tenant(schema: str) -> Any:
    from tenants.models import Tenant

    return Tenant.objects.select_related("plan").get(schema_name=schema)


def scenario_make(schema: str, name: str, *, assumptions: list[dict[str, Any]] | None = None) -> Any:
    from apps.scenarios.services.inputs import CurveSelection
    from apps.scenarios.services.scenarios import scenario_create

    with schema_context(schema):
        return scenario_create(
            tenant=tenant(schema),
            name=name,
            actor=None,
            assumptions=[POLICY, STOCHASTIC] if assumptions is None else assumptions,
            selection=CurveSelection(curve_keys=tuple(german_power_keys())),
        )


def run_make(schema: str, scenario: Any, *, seed: int = 7, n_paths: int = 200) -> Any:
    """A run of ``scenario``, computed and written here (no worker): succeeded, with its outputs."""
    from apps.scenarios.services.execution import scenario_run_execute
    from apps.scenarios.services.inputs import RunOptions
    from apps.scenarios.services.runs import scenario_run_submit

    with schema_context(schema):
        options = RunOptions(seed=seed, parameters={"n_paths": n_paths})
        submitted = scenario_run_submit(tenant=tenant(schema), scenario=scenario, options=options, actor=None)
        run = scenario_run_execute(run_id=str(submitted.run.pk), tenant=tenant(schema))
        assert run is not None and run.status == "succeeded", run and run.error_message
        return run


def contract_make(schema: str, **terms: Any) -> Any:
    from apps.ppa.services import ppa_contract_create

    base = {
        "counterparty": "Solar Co",
        "price_usd_mwh": 60.0,
        "volume_mwh": 1000.0,
        "discount_rate": 0.08,
        "upfront_cost": 50000.0,
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
    }
    with schema_context(schema):
        return ppa_contract_create(
            tenant=tenant(schema), terms={**base, **terms}, curve_key=german_power_keys()[0]
        )
