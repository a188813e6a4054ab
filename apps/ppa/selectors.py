"""Reads for PPA: contracts and valuations (tenant schema), stored rows and curve prices (lakehouse).

Contracts and valuations are tenant-owned: the request's schema scopes every query, so another tenant's
contract is simply not found (404).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet

from apps.curves.selectors import curve_get_for_tenant, curve_points
from apps.ppa.lakehouse import ppa_rows_read
from apps.ppa.models import PpaContract, PpaValuation
from apps.scenarios.models import Scenario, ScenarioRun
from apps.scenarios.selectors import OutputFilters, run_outputs_page, scenario_latest_succeeded_run
from aurum.errors import InvalidInputError, NotFoundError
from aurum.lakehouse.queries import CurveFilters
from aurum.lakehouse.tables import CURVE_OBSERVATION
from tenants.models import Tenant
from tenants.selectors import tenant_datasets

MONTHLY = "MONTHLY"


def _uuid_or_none(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def ppa_contract_list(*, counterparty: str | None = None) -> QuerySet[PpaContract]:
    """The tenant's contracts, newest first; ``counterparty`` matches a substring, ignoring case."""
    contracts = PpaContract.objects.select_related("created_by").order_by("-created_at", "-id")
    if counterparty:
        contracts = contracts.filter(terms__counterparty__icontains=counterparty)
    return contracts


def ppa_contract_get(*, contract_id: object) -> PpaContract:
    """The contract, or NotFoundError (also for a malformed id, and for another tenant's contract)."""
    pk = _uuid_or_none(contract_id)
    contract = None if pk is None else PpaContract.objects.select_related("created_by").filter(pk=pk).first()
    if contract is None:
        raise NotFoundError("No such PPA contract.")
    return contract


def ppa_valuation_list(*, contract: PpaContract) -> QuerySet[PpaValuation]:
    return (
        PpaValuation.objects.filter(contract=contract)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )


def ppa_valuation_get(*, contract: PpaContract, valuation_id: object) -> PpaValuation:
    pk = _uuid_or_none(valuation_id)
    valuation = None if pk is None else ppa_valuation_list(contract=contract).filter(pk=pk).first()
    if valuation is None:
        raise NotFoundError("No such valuation of this contract.")
    return valuation


def ppa_valuation_for_idempotency_key(*, key: str) -> PpaValuation | None:
    """The tenant's valuation recorded for this idempotency key, if any."""
    return PpaValuation.objects.select_related("created_by").filter(idempotency_key=key).first()


def ppa_valuation_rows(
    *,
    tenant: Tenant,
    contract: PpaContract,
    valuation: PpaValuation | None = None,
    scenario_id: str | None = None,
    metric: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Stored ``ppa_valuation`` rows of the contract (of one valuation when given), newest valuation first.

    Only rows of valuations on record are returned, so a write whose database transaction rolled back
    after its Iceberg append can never show up.
    """
    if valuation is not None:
        ids = [str(valuation.pk)]
    else:
        ids = [str(pk) for pk in PpaValuation.objects.filter(contract=contract).values_list("pk", flat=True)]
    return ppa_rows_read(
        tenant=tenant,
        contract_id=str(contract.pk),
        valuation_ids=ids,
        scenario_id=scenario_id,
        metric=metric,
        limit=limit,
        offset=offset,
    )


@dataclass(frozen=True)
class MonthlyPrices:
    """One curve's monthly prices at one as-of, in month order (tenors without a price left out)."""

    curve_key: str
    asof: date
    months: list[date]
    prices: list[float]
    currency: str
    snapshot_id: int | None  # the Iceberg snapshot read


def curve_monthly_prices(*, tenant: Tenant, curve_key: str, asof: date | None = None) -> MonthlyPrices:
    """The base curve's MONTHLY mids at ``asof`` (the curve's latest as-of when None).

    NotFoundError when the tenant is not licensed for the curve's dataset (or it does not exist), and when the
    curve has no monthly prices at that as-of.
    """
    datasets = tenant_datasets(tenant=tenant)
    curve = curve_get_for_tenant(tenant=tenant, curve_key=curve_key, datasets=datasets)
    day = asof or curve.last_asof
    filters = CurveFilters(datasets=tuple(sorted(datasets)), curve_keys=(curve_key,), tenor_type=MONTHLY)
    result = curve_points(filters=filters, asof=day)
    points = sorted(
        (row["contract_month"], float(row["mid"]))
        for row in result.table.select(["contract_month", "mid"]).to_pylist()
        if row["mid"] is not None and row["contract_month"] is not None
    )
    if not points:
        raise NotFoundError(f"This curve has no monthly prices on {day.isoformat()}.")
    return MonthlyPrices(
        curve_key=curve_key,
        asof=day,
        months=[month for month, _ in points],
        prices=[price for _, price in points],
        currency=curve.currency,
        snapshot_id=result.snapshot_ids.get(CURVE_OBSERVATION),
    )


# --- scenario runs as a price source ---------------------------------------------------------------------


def scenario_run_get(*, run_id: object) -> ScenarioRun:
    """A run of this tenant, or NotFoundError (also for a malformed id)."""
    pk = _uuid_or_none(run_id)
    run = None if pk is None else ScenarioRun.objects.select_related("scenario").filter(pk=pk).first()
    if run is None:
        raise NotFoundError("No such scenario run.")
    return run


def scenario_run_for_valuation(*, scenario_id: object, asof: date | None = None) -> ScenarioRun:
    """The scenario's latest succeeded run (of base as-of ``asof`` when given); NotFoundError when none."""
    pk = _uuid_or_none(scenario_id)
    scenario = None if pk is None else Scenario.objects.filter(pk=pk).first()
    if scenario is None:
        raise NotFoundError("No such scenario.")
    if asof is None:
        run = scenario_latest_succeeded_run(scenario=scenario)
    else:
        run = (
            ScenarioRun.objects.filter(scenario=scenario, status=ScenarioRun.Status.SUCCEEDED, base_asof=asof)
            .order_by("-completed_at", "-id")
            .first()
        )
    if run is None:
        on = f" with base as-of {asof.isoformat()}" if asof else ""
        raise NotFoundError(f"This scenario has no succeeded run{on} to value against.")
    return run


def _currency(unit: str | None) -> str:
    # The spec takes the currency from the metric unit's prefix: "EUR/MWh" -> "EUR".
    return (unit or "").split("/")[0].strip()


def scenario_run_monthly_prices(
    *, tenant: Tenant, run: ScenarioRun, curve_key: str | None = None, default_curve_key: str = ""
) -> MonthlyPrices:
    """A succeeded run's monthly ``mid`` values for one of its curves.

    The curve is ``curve_key``, else the run's only curve, else ``default_curve_key`` if the run has it.
    400 for a run that has not succeeded or when the curve is ambiguous; 404 when the run has no monthly
    output for the curve.
    """
    if run.status != ScenarioRun.Status.SUCCEEDED:
        raise InvalidInputError.field(
            "scenario_run_id",
            f"Only a succeeded run can be valued against; this one is {run.status}.",
            code="RUN_NOT_SUCCEEDED",
        )
    # DuckDB filters the run's rows: its mid, monthly tenors, and the named curve when there is one.
    wanted = OutputFilters(metric="mid", tenor_type=MONTHLY, curve_key=curve_key or None)
    table = run_outputs_page(tenant=tenant, run=run, filters=wanted, limit=None)
    rows = [
        row
        for row in table.select(["curve_key", "contract_month", "value", "asof_date"]).to_pylist()
        if row["value"] is not None and row["contract_month"] is not None
    ]
    keys = sorted({row["curve_key"] for row in rows})
    if curve_key:
        key = curve_key
    elif len(keys) == 1:
        key = keys[0]
    elif default_curve_key in keys:
        key = default_curve_key
    else:
        raise InvalidInputError.field(
            "curve_key", f"The run covers {len(keys)} curves; name the one to value against.", code="REQUIRED"
        )
    points = sorted(
        (row["contract_month"], float(row["value"]), row["asof_date"])
        for row in rows
        if row["curve_key"] == key
    )
    if not points:
        raise NotFoundError("This run has no monthly output for that curve.")
    units = run.curve_units if isinstance(run.curve_units, dict) else {}
    return MonthlyPrices(
        curve_key=key,
        asof=run.base_asof or points[0][2],
        months=[month for month, _, _ in points],
        prices=[price for _, price, _ in points],
        currency=_currency(units.get(key)),
        snapshot_id=run.output_snapshot_id,
    )


def ppa_latest_valuations(*, contracts: list[PpaContract]) -> dict[uuid.UUID, PpaValuation]:
    """The newest valuation of each of ``contracts``, keyed by contract id, in one query."""
    valuations = (
        PpaValuation.objects.filter(contract__in=[contract.pk for contract in contracts])
        .order_by("contract_id", "-created_at", "-id")
        .distinct("contract_id")
    )
    return {valuation.contract_id: valuation for valuation in valuations}
