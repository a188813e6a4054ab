"""Acme's own objects, one of each kind a route names, created through the API (and the service a worker
calls to execute a run), so a suite over every route can ask for each with acme's credential and get 200.

The curves come from the caller's lakehouse (``tests.support.lake``): two EUGP days, so a diff, movers and a
scenario over real curves exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django_tenants.utils import schema_context

from tests.support.feeds import drought_indices_write, feeds_load
from tests.support.lake import EUGP_DAYS, Lake
from tests.support.world import World

# The lakehouse's two vintages, and a real curve: EUGP's German base power (monthly tenors and strips).
ASOF_A, ASOF_B = EUGP_DAYS[0], EUGP_DAYS[1]
GERMAN_POWER = {"dataset": "vendor:EUGP", "location": "German", "block": "BASE", "asset_class": "power"}
# A PPA whose window lies inside the curve's monthly tenors.
PPA_TERMS = {
    "counterparty": "Rheinwind",
    "ppa_price": 40.0,
    "volume_mwh": 1500.0,
    "start_date": "2025-10-01",
    "end_date": "2026-12-31",
}
CALENDAR = "pjm"
BLOCK = "ON_PEAK"
LOCATION = ("PJM", "51290")


@dataclass(frozen=True)
class AcmeObjects:
    curve_key: str
    tenor_label: str
    ingest_run_id: int
    token_id: int
    member_id: int  # acme's admin's membership
    scenario_id: str
    run_id: str
    other_run_id: str  # a second succeeded run of the scenario, for compare and metrics' trend
    contract_id: str
    valuation_id: str
    notice_id: int  # a notice of acme's admin, who follows ``curve_key``
    webhook_id: str  # an endpoint of acme's (nobody listens at its URL)
    export_id: str  # a finished export of acme's (written in this process, not by a worker)


def german_power_curve() -> tuple[str, str]:
    """(curve_key, a monthly tenor label) of the catalogued German base power curve."""
    from apps.curves.models import Curve

    keys = sorted(Curve.objects.filter(**GERMAN_POWER).values_list("curve_key", flat=True))
    assert keys, "the lakehouse holds no German base power curve"
    return keys[0], "2026-01"


def run_execute(world: World, run_id: str) -> None:
    """Execute a queued run in this process, as the worker would."""
    from apps.scenarios.services.execution import scenario_run_execute
    from tenants.models import Tenant

    tenant = Tenant.objects.select_related("plan").get(pk=world.acme.pk)
    with schema_context(tenant.schema_name):
        run = scenario_run_execute(run_id=run_id, tenant=tenant)
    assert run is not None and run.status == "succeeded", run and run.error_message


def scenario_with_runs(
    api: Any, world: World, *, curve_keys: list[str], name: str, runs: int
) -> tuple[str, list[str]]:
    """A v2 scenario over ``curve_keys`` with ``runs`` succeeded runs (seeds 1..runs), oldest first."""
    auth = world.acme.auth("admin")
    created = api.post(
        "/api/v2/scenarios",
        {"name": name, "curve_keys": curve_keys, "base_asof": ASOF_A.isoformat()},
        format="json",
        **auth,
    )
    assert created.status_code == 201, created.content
    scenario_id = created.json()["data"]["id"]
    run_ids = []
    for seed in range(1, runs + 1):
        queued = api.post(f"/api/v2/scenarios/{scenario_id}/runs", {"seed": seed}, format="json", **auth)
        assert queued.status_code == 201, queued.content
        run_ids.append(queued.json()["data"]["id"])
        run_execute(world, run_ids[-1])
    return scenario_id, run_ids


def contract_with_valuation(api: Any, world: World, *, curve_key: str, asof: date) -> tuple[str, str]:
    auth = world.acme.auth("admin")
    contract = api.post(
        "/api/v2/ppa/contracts", {"terms": PPA_TERMS, "curve_key": curve_key}, format="json", **auth
    )
    assert contract.status_code == 201, contract.content
    contract_id = contract.json()["data"]["id"]
    valuation = api.post(
        f"/api/v2/ppa/contracts/{contract_id}/valuations", {"asof": asof.isoformat()}, format="json", **auth
    )
    assert valuation.status_code == 201, valuation.content
    return contract_id, valuation.json()["data"]["id"]


def followed_with_notice(api: Any, world: World, *, curve_key: str) -> int:
    """Acme's admin follows ``curve_key`` with a tiny threshold; the ``ASOF_B`` vintage raises a notice."""
    from apps.watchlists.services import watchlist_vintage_published
    from tenants.models import Tenant

    body = {"curve_key": curve_key, "threshold_abs": 0.0001}
    followed = api.post("/api/v2/watchlist", body, format="json", **world.acme.auth("admin"))
    assert followed.status_code == 201, followed.content
    tenant = Tenant.objects.select_related("plan").get(pk=world.acme.pk)
    with schema_context(tenant.schema_name):
        notices = watchlist_vintage_published(tenant=tenant, dataset="vendor:EUGP", asof=ASOF_B)
    assert len(notices) == 1
    return notices[0].pk


def webhook_endpoint(api: Any, world: World, *, url: str = "http://127.0.0.1:9/hook") -> str:
    """An endpoint of acme's for scenario runs, created through the API."""
    body = {"url": url, "events": ["scenario.run.succeeded"]}
    created = api.post("/api/v2/webhooks", body, format="json", **world.acme.auth("admin"))
    assert created.status_code == 201, created.content
    return str(created.json()["data"]["id"])


def tenant_export_done(world: World) -> str:
    """A finished export of acme's: requested as its admin, then written here (the suites' transaction
    never commits, so no worker would see it)."""
    from apps.accounts.models import User
    from apps.exports.services import tenant_export_request, tenant_export_run
    from tenants.models import Tenant

    tenant = Tenant.objects.get(pk=world.acme.pk)
    admin = User.objects.get(email=world.acme.members["admin"].email)
    export = tenant_export_request(tenant=tenant, actor=admin)
    assert tenant_export_run(export_id=str(export.pk)).status == "succeeded"
    return str(export.pk)


def acme_objects_create(api: Any, world: World, lake: Lake) -> AcmeObjects:
    feeds_load()  # the fundamentals routes' data: every recorded fetch, into the caller's lakehouse
    drought_indices_write()
    curve_key, tenor = german_power_curve()
    scenario_id, (run_id, other_run_id) = scenario_with_runs(
        api, world, curve_keys=[curve_key], name="Acme own", runs=2
    )
    contract_id, valuation_id = contract_with_valuation(api, world, curve_key=curve_key, asof=ASOF_A)
    return AcmeObjects(
        curve_key=curve_key,
        tenor_label=tenor,
        ingest_run_id=lake.run_ids[0],
        token_id=world.acme.members["admin"].token_id,
        member_id=world.acme.members["admin"].membership_id,
        scenario_id=scenario_id,
        run_id=run_id,
        other_run_id=other_run_id,
        contract_id=contract_id,
        valuation_id=valuation_id,
        notice_id=followed_with_notice(api, world, curve_key=curve_key),
        webhook_id=webhook_endpoint(api, world),
        export_id=tenant_export_done(world),
    )
