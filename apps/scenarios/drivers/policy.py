"""`policy`: a named policy (carbon tax, mandate, ...) that lifts prices from its start year on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from apps.scenarios.drivers.base import Driver, Effect, EffectContext, FieldSpec, Kind

# The original worker's placeholder: each character of the policy name adds 0.1 price units.
POLICY_WEIGHT = 0.1

FIELDS = (
    FieldSpec("policy_name", Kind.STRING, "name of the policy; drives the placeholder uplift", required=True),
    FieldSpec(
        "start_year",
        Kind.INTEGER,
        "first calendar year the policy applies (from January)",
        minimum=1900,
        maximum=2100,
    ),
    FieldSpec("description", Kind.STRING, "free text"),
)

DOCS = (
    "Adds len(policy_name) x 0.1 to every tenor whose contract year is on or after start_year "
    "(every tenor when start_year is absent)."
)


def policy_effect(payload: Mapping[str, Any], ctx: EffectContext) -> Effect:
    uplift = len(payload["policy_name"]) * POLICY_WEIGHT
    start_year = payload["start_year"]
    active = ctx.contract_year >= start_year if start_year is not None else np.ones(ctx.shape[1], dtype=bool)
    return Effect(ctx.full(np.where(active, uplift, 0.0)[None, :]))


DRIVER = Driver(name="policy", fields=FIELDS, docs=DOCS, effect=policy_effect)
