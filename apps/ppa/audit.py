"""What the audit ledger records of PPA actions (appended in the calling service's transaction)."""

from __future__ import annotations

from collections.abc import Sequence

from apps.audit.services import audit_append
from apps.ppa.models import PpaContract, PpaValuation


def ppa_contract_audit(
    verb: str, contract: PpaContract, *, fields: Sequence[str], contract_id: str | None = None
) -> None:
    """``ppa.contract.<verb>`` with the named fields' values (a deleted contract has no pk: pass its id)."""
    audit_append(
        action=f"ppa.contract.{verb}",
        resource_type="ppa_contract",
        resource_id=contract_id or str(contract.pk),
        changes={field: getattr(contract, field) for field in fields},
    )


def ppa_valuation_audit(valuation: PpaValuation) -> None:
    audit_append(
        action="ppa.valuation.create",
        resource_type="ppa_valuation",
        resource_id=valuation.pk,
        changes={
            "contract": str(valuation.contract_id),
            "source": valuation.source,
            "scenario": valuation.scenario_id,
            "run": valuation.scenario_run_id,
            "curve_key": valuation.curve_key,
            "asof": valuation.asof,
            "npv": valuation.npv,
            "months": valuation.months,
            "version_hash": valuation.version_hash,
        },
    )
