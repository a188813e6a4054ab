"""`fleet_change`: capacity added or retired, moving prices from its effective month on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from apps.scenarios.drivers.base import (
    Driver,
    Effect,
    EffectContext,
    FieldSpec,
    Kind,
    ValidationResult,
    month_index_of,
    parse_iso_date,
    warning,
)

RAMP_MONTHS = 24

FIELDS = (
    FieldSpec("fleet_id", Kind.STRING, "the fleet or plant that changes", required=True),
    FieldSpec("change_type", Kind.STRING, "add or retire capacity", required=True, choices=("retire", "add")),
    FieldSpec("effective_date", Kind.DATE, "ISO date the change takes effect", required=True),
    FieldSpec(
        "capacity_mw", Kind.NUMBER, "capacity added or retired, in MW", required=True, exclusive_minimum=0
    ),
)

DOCS = (
    "effect(t) = sign x capacity_mw / 100 x (1 + 0.5 x min(lead, 24) / 24) for contract months on or after "
    "the "
    "effective month, 0 before; lead = whole months from the as-of to the effective date (0 if past). "
    "sign = +1 for add, -1 for retire (the original's sign convention)."
)


def fleet_change_effect(payload: Mapping[str, Any], ctx: EffectContext) -> Effect:
    effective = parse_iso_date(payload["effective_date"])
    if effective is None:
        raise ValueError("effective_date must be an ISO date")  # validation rejects this first
    sign = 1.0 if payload["change_type"] == "add" else -1.0
    effective_month = month_index_of(effective)
    lead = max(effective_month - ctx.asof_month_index, 0)
    magnitude = (
        sign * float(payload["capacity_mw"]) / 100.0 * (1.0 + 0.5 * min(lead, RAMP_MONTHS) / RAMP_MONTHS)
    )
    return Effect(ctx.full(np.where(ctx.month_index >= effective_month, magnitude, 0.0)[None, :]))


def fleet_change_check(payload: Mapping[str, Any], path: str) -> list[ValidationResult]:
    if payload["capacity_mw"] > 10_000:
        return [
            warning(
                "LARGE_CAPACITY",
                f"{payload['capacity_mw']} MW is more than 10 GW in one change",
                f"{path}.capacity_mw",
                "capacity_mw is in MW, not kW",
            )
        ]
    return []


DRIVER = Driver(
    name="fleet_change", fields=FIELDS, docs=DOCS, effect=fleet_change_effect, check=fleet_change_check
)
