"""`conditional`: one driver where conditions hold, another (or nothing) elsewhere, per curve and tenor."""

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
    warning,
)
from apps.scenarios.drivers.conditions import (
    CONDITION_FIELDS,
    EVALUATION_LOGICS,
    evaluate_conditions,
    validate_conditions,
)
from apps.scenarios.drivers.registry import evaluate_node, validate_node

FIELDS = (
    FieldSpec(
        "conditions",
        Kind.ARRAY,
        f"[{{field, operator, value}}] over {', '.join(CONDITION_FIELDS)}",
        required=True,
    ),
    FieldSpec("true_driver", Kind.OBJECT, "driver node applied where the conditions hold", required=True),
    FieldSpec("false_driver", Kind.OBJECT, "driver node applied elsewhere (no move when absent)"),
    FieldSpec(
        "evaluation_logic", Kind.STRING, "how conditions combine", choices=EVALUATION_LOGICS, default="all"
    ),
    FieldSpec(
        "custom_logic", Kind.STRING, 'for custom: boolean expression over condition indexes, "0 and not 1"'
    ),
)

DOCS = (
    "effect(c, t) = true_driver(c, t) where the conditions hold at curve c and tenor t, else "
    "false_driver(c, t) (0 without one). Condition fields: contract_month, contract_year, calendar_month, "
    "months_ahead, base_price, curve_key, tenor_type; operators = != < <= > >= in not_in between."
)


def conditional_effect(payload: Mapping[str, Any], ctx: EffectContext) -> Effect:
    holds = evaluate_conditions(
        payload["conditions"], payload["evaluation_logic"], payload["custom_logic"], ctx
    )
    when_true = evaluate_node(payload["true_driver"], ctx).total
    when_false = evaluate_node(payload["false_driver"], ctx).total if payload["false_driver"] else 0.0
    return Effect(ctx.full(np.where(holds, when_true, when_false)))


def conditional_check(payload: Mapping[str, Any], path: str) -> list[ValidationResult]:
    results = validate_conditions(
        payload["conditions"], payload["evaluation_logic"], payload["custom_logic"], path
    )
    if payload["custom_logic"] and payload["evaluation_logic"] != "custom":
        results.append(
            warning(
                "CUSTOM_LOGIC_IGNORED",
                "custom_logic applies only when evaluation_logic is custom",
                f"{path}.custom_logic",
            )
        )
    results.extend(validate_node(payload["true_driver"], f"{path}.true_driver", allow_stochastic=False))
    if payload["false_driver"]:
        results.extend(validate_node(payload["false_driver"], f"{path}.false_driver", allow_stochastic=False))
    return results


DRIVER = Driver(
    name="conditional", fields=FIELDS, docs=DOCS, effect=conditional_effect, check=conditional_check
)
