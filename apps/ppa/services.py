"""Writes for PPA: contracts (create, update, delete) and valuations against a base curve or a scenario run.

A valuation is one ``PpaValuation`` record (Postgres, tenant schema) plus its monthly ``cashflow`` rows and
one ``NPV`` and one ``IRR`` row appended to ``t_<schema>.ppa_valuation`` (Iceberg), in one database
transaction: if the Iceberg append fails, no record is kept.

A valuation request may carry an idempotency key: the record keeps it with a fingerprint of the request
(what was asked, not what was found), so the same key and request again answer the stored valuation and the
same key with another request is refused (422, Stripe's rule).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import structlog
from auditlog.context import auditlog_value, set_actor
from django.db import IntegrityError, transaction

from apps.accounts.models import User
from apps.curves.models import Curve
from apps.ppa.audit import ppa_contract_audit, ppa_valuation_audit
from apps.ppa.lakehouse import ppa_rows_append, ppa_rows_delete
from apps.ppa.models import PpaContract, PpaValuation
from apps.ppa.selectors import (
    MONTHLY,
    MonthlyPrices,
    curve_monthly_prices,
    ppa_valuation_for_idempotency_key,
    ppa_valuation_rows,
    scenario_run_for_valuation,
    scenario_run_monthly_prices,
)
from apps.ppa.valuation import TermsError, to_decimal6, validate_terms, value_ppa
from apps.ppa.valuation import ppa_valuation_rows as build_rows
from apps.scenarios.models import ScenarioRun
from aurum.errors import InvalidInputError, Issue, UnprocessableError
from aurum.events.publish import event_publish_on_commit
from tenants.models import Tenant
from tenants.selectors import tenant_datasets

log = structlog.get_logger(__name__)

# What a valuation request may override (spec 3.2: options{ppa_price, volume_mwh, discount_rate,
# upfront_cost}).
OPTION_KEYS = ("ppa_price", "volume_mwh", "discount_rate", "upfront_cost")


def _invalid(errors: Sequence[TermsError]) -> InvalidInputError:
    """Every problem at once, grouped by field path (``terms.capacity_mw``), each with its stable code."""
    by_field: dict[str, list[TermsError]] = {}
    for error in errors:
        by_field.setdefault(error.field_path, []).append(error)
    return InvalidInputError.of(
        *(Issue(field, error.message, error.code) for field, group in by_field.items() for error in group)
    )


@contextmanager
def _audited_as(actor: User | None) -> Iterator[None]:
    """Audit entries written inside name ``actor``. The auditlog middleware only knows session users; an API
    token's user is known once DRF has authenticated the request, so the service names it."""
    if actor is None:
        yield
        return
    try:
        outer = auditlog_value.get()
    except LookupError:
        outer = {}
    with set_actor(actor, remote_addr=outer.get("remote_addr"), remote_port=outer.get("remote_port")):
        yield


def _terms_check(terms: Mapping[str, Any]) -> None:
    errors = validate_terms(terms)
    if errors:
        raise _invalid(errors)


def _curve_key_check(*, tenant: Tenant, curve_key: str) -> None:
    # Same answer for a curve that does not exist and one the tenant is not licensed for.
    if (
        curve_key
        and not Curve.objects.filter(curve_key=curve_key, dataset__in=tenant_datasets(tenant=tenant)).exists()
    ):
        raise InvalidInputError.field("curve_key", "No such curve.", code="UNKNOWN_CURVE")


@transaction.atomic
def ppa_contract_create(
    *,
    tenant: Tenant,
    terms: Mapping[str, Any],
    instrument_id: str | None = None,
    curve_key: str = "",
    actor: User | None = None,
) -> PpaContract:
    """A contract whose terms can be valued; 400 with every terms problem otherwise."""
    _terms_check(terms)
    _curve_key_check(tenant=tenant, curve_key=curve_key)
    with _audited_as(actor):
        contract = PpaContract.objects.create(
            terms=dict(terms), instrument_id=instrument_id or "", curve_key=curve_key, created_by=actor
        )
    ppa_contract_audit("create", contract, fields=["terms", "instrument_id", "curve_key"])
    return contract


_UNSET: Any = object()


@transaction.atomic
def ppa_contract_update(
    *,
    tenant: Tenant,
    contract: PpaContract,
    terms: Mapping[str, Any] | None = _UNSET,
    instrument_id: str | None = _UNSET,
    curve_key: str | None = _UNSET,
    actor: User | None = None,
) -> PpaContract:
    """Change what is given. ``terms`` replaces the terms as a whole (and is validated as such)."""
    fields = ["updated_at"]
    if terms is not _UNSET and terms is not None:
        _terms_check(terms)
        contract.terms = dict(terms)
        fields.append("terms")
    if instrument_id is not _UNSET:
        contract.instrument_id = instrument_id or ""
        fields.append("instrument_id")
    if curve_key is not _UNSET:
        _curve_key_check(tenant=tenant, curve_key=curve_key or "")
        contract.curve_key = curve_key or ""
        fields.append("curve_key")
    with _audited_as(actor):
        contract.save(update_fields=fields)
    ppa_contract_audit("update", contract, fields=[field for field in fields if field != "updated_at"])
    return contract


@transaction.atomic
def ppa_contract_delete(*, tenant: Tenant, contract: PpaContract, actor: User | None = None) -> None:
    """Delete the contract, its valuation records and its rows in the lakehouse."""
    contract_id = str(contract.pk)
    had_valuations = contract.valuations.exists()
    with _audited_as(actor):
        contract.delete()
    if had_valuations:  # inside the transaction: if the Iceberg delete fails, the contract stays
        ppa_rows_delete(tenant=tenant, contract_id=contract_id)
    ppa_contract_audit("delete", contract, fields=["instrument_id"], contract_id=contract_id)


# --- valuation -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PpaValued:
    """A valuation's record and the rows it appended (the spec 2.5 columns and Aurum's extras)."""

    valuation: PpaValuation
    rows: list[dict[str, Any]]
    created: bool = True  # False: the stored valuation of an earlier request with the same idempotency key


def effective_terms(contract: PpaContract, options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The contract's terms with the request's options on top; 400 naming ``options.x`` or ``terms.x``."""
    options = dict(options or {})
    unknown = sorted(set(options) - set(OPTION_KEYS))
    if unknown:
        raise InvalidInputError.of(
            *(
                Issue(
                    f"options.{key}",
                    f"Unknown option; use one of {', '.join(OPTION_KEYS)}.",
                    "UNKNOWN_OPTION",
                )
                for key in unknown
            )
        )
    terms = {**contract.terms, **{k: v for k, v in options.items() if v is not None}}
    errors = [
        TermsError(
            f"options.{error.field_path.removeprefix('terms.')}"
            if error.field_path.removeprefix("terms.") in options
            else error.field_path,
            error.code,
            error.message,
        )
        for error in validate_terms(terms)
    ]
    if errors:
        raise _invalid(errors)
    return terms


def ppa_valuate_curve(
    *,
    tenant: Tenant,
    contract: PpaContract,
    curve_key: str | None = None,
    asof: date | None = None,
    options: Mapping[str, Any] | None = None,
    actor: User | None = None,
    idempotency_key: str | None = None,
) -> PpaValued:
    """Value the contract against a base curve's monthly mids (the contract's curve unless ``curve_key``).

    404 when the tenant is not licensed for the curve (or it has no monthly prices at ``asof``).
    """
    request = _Request(
        idempotency_key,
        _fingerprint(via="curve", contract=contract, curve_key=curve_key, asof=asof, options=options),
    )
    replay = _replayed(tenant=tenant, contract=contract, request=request)
    if replay is not None:
        return replay
    key = curve_key or contract.curve_key
    if not key:
        raise InvalidInputError.field(
            "curve_key", "The contract names no curve; give curve_key.", code="REQUIRED"
        )
    terms = effective_terms(contract, options)
    prices = curve_monthly_prices(tenant=tenant, curve_key=key, asof=asof)
    return _valuate(
        tenant=tenant,
        contract=contract,
        terms=terms,
        options=options,
        source=PpaValuation.Source.CURVE,
        prices=prices,
        actor=actor,
        request=request,
    )


def ppa_valuate_scenario_run(
    *,
    tenant: Tenant,
    contract: PpaContract,
    run: ScenarioRun,
    curve_key: str | None = None,
    options: Mapping[str, Any] | None = None,
    actor: User | None = None,
    idempotency_key: str | None = None,
) -> PpaValued:
    """Value the contract against a succeeded scenario run's monthly ``mid`` output (spec 4, PPA step 1)."""
    request = _Request(
        idempotency_key,
        _fingerprint(
            via="scenario_run", contract=contract, run_id=str(run.pk), curve_key=curve_key, options=options
        ),
    )
    replay = _replayed(tenant=tenant, contract=contract, request=request)
    if replay is not None:
        return replay
    return _valuate_run(
        tenant=tenant,
        contract=contract,
        run=run,
        curve_key=curve_key,
        options=options,
        actor=actor,
        request=request,
    )


def ppa_valuate_scenario(
    *,
    tenant: Tenant,
    contract: PpaContract,
    scenario_id: str,
    asof: date | None = None,
    options: Mapping[str, Any] | None = None,
    actor: User | None = None,
    idempotency_key: str | None = None,
) -> PpaValued:
    """v1's valuation: against the scenario's latest succeeded run (of base as-of ``asof``, when given).

    The idempotency fingerprint is of this request (the scenario), not of the run it finds: the same request
    after a newer run succeeded still answers the stored valuation."""
    request = _Request(
        idempotency_key,
        _fingerprint(via="scenario", contract=contract, scenario_id=scenario_id, asof=asof, options=options),
    )
    replay = _replayed(tenant=tenant, contract=contract, request=request)
    if replay is not None:
        return replay
    run = scenario_run_for_valuation(scenario_id=scenario_id, asof=asof)
    return _valuate_run(
        tenant=tenant,
        contract=contract,
        run=run,
        curve_key=None,
        options=options,
        actor=actor,
        request=request,
    )


def _valuate_run(
    *,
    tenant: Tenant,
    contract: PpaContract,
    run: ScenarioRun,
    curve_key: str | None,
    options: Mapping[str, Any] | None,
    actor: User | None,
    request: _Request,
) -> PpaValued:
    terms = effective_terms(contract, options)
    prices = scenario_run_monthly_prices(
        tenant=tenant, run=run, curve_key=curve_key, default_curve_key=contract.curve_key
    )
    return _valuate(
        tenant=tenant,
        contract=contract,
        terms=terms,
        options=options,
        source=PpaValuation.Source.SCENARIO_RUN,
        prices=prices,
        actor=actor,
        request=request,
        scenario_id=str(run.scenario_id),
        run_id=str(run.pk),
    )


def _valuate(
    *,
    tenant: Tenant,
    contract: PpaContract,
    terms: dict[str, Any],
    options: Mapping[str, Any] | None,
    source: str,
    prices: MonthlyPrices,
    actor: User | None,
    request: _Request,
    scenario_id: str | None = None,
    run_id: str | None = None,
) -> PpaValued:
    result = value_ppa(
        contract_months=np.array(prices.months, dtype="datetime64[M]"), prices=prices.prices, terms=terms
    )
    if not result.cashflows:
        raise InvalidInputError.field(
            "terms",
            "No month of the curve falls between the contract's start_date and end_date.",
            code="NO_OVERLAP",
        )
    contract_id = str(contract.pk)
    rows = build_rows(
        result,
        asof_date=prices.asof,
        ppa_contract_id=contract_id,
        scenario_id=scenario_id or "",
        curve_key=prices.curve_key,
        currency=prices.currency or None,
    )
    version_hash = _sha256(
        contract_id=contract_id,
        source=source,
        run_id=run_id,
        curve_key=prices.curve_key,
        asof=prices.asof,
        terms=terms,
        row_hashes=[row["version_hash"] for row in rows],
    )
    npv = to_decimal6(result.npv)
    assert npv is not None
    try:
        with transaction.atomic():
            valuation = PpaValuation.objects.create(
                contract=contract,
                source=source,
                scenario_id=scenario_id,
                scenario_run_id=run_id,
                curve_key=prices.curve_key,
                asof=prices.asof,
                options=dict(options or {}),
                terms=terms,
                currency=prices.currency or "",
                npv=npv,
                irr=result.irr,
                period_start=result.period_start,
                period_end=result.period_end,
                months=len(result.cashflows),
                row_count=len(rows),
                version_hash=version_hash,
                source_snapshot_id=prices.snapshot_id,
                created_by=actor,
                idempotency_key=request.key or "",
                request_fingerprint=request.fingerprint if request.key else "",
            )
            for seq, row in enumerate(rows):
                cashflow = result.cashflows[seq] if seq < len(result.cashflows) else None
                row.update(
                    valuation_id=str(valuation.pk),
                    scenario_id=scenario_id,
                    run_id=run_id,
                    tenor_type=MONTHLY if cashflow else None,
                    seq=seq,
                    period=cashflow.period if cashflow else None,
                    price=cashflow.price if cashflow else None,
                    volume_mwh=cashflow.volume_mwh if cashflow else None,
                    discounted=cashflow.discounted if cashflow else None,
                )
            valuation.snapshot_id = ppa_rows_append(tenant=tenant, rows=rows)
            valuation.save(update_fields=["snapshot_id"])
            event_publish_on_commit(
                schema_name=tenant.schema_name,
                event_type="ppa.valuation.completed",
                payload={
                    "contract_id": str(contract.pk),
                    "valuation_id": str(valuation.pk),
                    "source": source,
                    "scenario_run_id": run_id,
                    "curve_key": prices.curve_key,
                    "asof": str(prices.asof),
                    "currency": valuation.currency,
                    "npv": str(valuation.npv),
                },
            )
            ppa_valuation_audit(valuation)
    except IntegrityError:
        # A request with the same idempotency key recorded its valuation while this one computed (the
        # insert waited for it): answer that one, or 422 if it asked for something else.
        replay = _replayed(tenant=tenant, contract=contract, request=request)
        if replay is None:
            raise
        return replay
    log.info(
        "ppa valued",
        contract_id=contract_id,
        valuation_id=str(valuation.pk),
        source=source,
        months=valuation.months,
        npv=str(valuation.npv),
    )
    return PpaValued(valuation=valuation, rows=rows)


# --- idempotency keys ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Request:
    """A valuation request's idempotency key (None: none given) and the fingerprint of what it asked for."""

    key: str | None
    fingerprint: str


def _fingerprint(*, via: str, contract: PpaContract, options: Mapping[str, Any] | None, **asked: Any) -> str:
    """What the request asked for, as given (not what it resolved to): an absent option and an empty one
    are the same request."""
    return _sha256(via=via, contract_id=str(contract.pk), options=dict(options or {}), **asked)


def _replayed(*, tenant: Tenant, contract: PpaContract, request: _Request) -> PpaValued | None:
    """The stored valuation of an earlier request with this key, or None (no key, or not used yet).

    UnprocessableError (422) when the key was used for a different request."""
    if request.key is None:
        return None
    stored = ppa_valuation_for_idempotency_key(key=request.key)
    if stored is None:
        return None
    if stored.request_fingerprint != request.fingerprint:
        raise UnprocessableError(
            f"Idempotency-Key '{request.key}' was used for a different valuation request; send a new key "
            "for new parameters.",
            slug="idempotency-key-reused",
        )
    rows = ppa_valuation_rows(tenant=tenant, contract=contract, valuation=stored)
    return PpaValued(valuation=stored, rows=rows, created=False)


def _sha256(**inputs: Any) -> str:
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
