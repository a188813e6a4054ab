"""`composite`: several driver components combined additively, multiplicatively or conditionally.

Attribution of the combined move to components (the parts always sum exactly to the total):
- additive: component j contributes w_j x e_j;
- multiplicative: the move is B x (prod_j (1 + r_j) - 1) with r_j = w_j x e_j / B, B the base mid; component j
  gets its exact Shapley value, B x r_j x sum_k k!(n-1-k)!/n! x e_k({1 + r_i, i != j}) (e_k the elementary
  symmetric polynomial), which is order-independent. Where B is 0, relative moves are undefined and the
  components combine additively;
- conditional: per curve and tenor the first component whose `conditions` hold applies (a component without
  conditions always holds); it gets the whole move.
A component that is itself a composite hands its contribution down to its own parts, each scaled by the
same factor as the component's move (its weight, its selection, or its Shapley value / its move).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from apps.scenarios.drivers.base import (
    Driver,
    Effect,
    EffectContext,
    FieldSpec,
    FloatArray,
    Kind,
    Part,
    ValidationResult,
    error,
    info,
    is_number,
    warning,
)
from apps.scenarios.drivers.conditions import evaluate_conditions, validate_conditions
from apps.scenarios.drivers.registry import evaluate_node, node_labels, validate_node

COMPOSITIONS = ("additive", "multiplicative", "conditional")

FIELDS = (
    FieldSpec(
        "components", Kind.ARRAY, "driver nodes {driver_type, payload, name?, conditions?}", required=True
    ),
    FieldSpec(
        "composition_type", Kind.STRING, "how components combine", choices=COMPOSITIONS, default="additive"
    ),
    FieldSpec(
        "weights", Kind.OBJECT, "weight per component, keyed by name, index or driver_type (default 1)"
    ),
    FieldSpec("validation_rules", Kind.OBJECT, "reserved; not evaluated"),
)

DOCS = (
    "Combines components. additive: sum w_j e_j. multiplicative: B (prod (1 + w_j e_j / B) - 1), "
    "attributed by "
    "exact Shapley values. conditional: per curve and tenor, the first component whose conditions hold."
)


def component_weight(weights: Mapping[str, Any] | None, label: str, index: int, driver_type: str) -> float:
    """A component's weight: looked up by its label, then its index, then its driver type; 1 when absent."""
    if weights:
        for key in (label, str(index), driver_type):
            if key in weights:
                return float(weights[key])
    return 1.0


def _component_parts(label: str, driver_type: str, effect: Effect, scale: FloatArray) -> list[Part]:
    """The component's contribution, `scale` x its move, broken down over its own parts (one for a leaf)."""
    if not effect.parts:
        return [Part(label, driver_type, scale * effect.total)]
    return [Part(f"{label}.{part.label}", part.driver_type, scale * part.values) for part in effect.parts]


def shapley_multiplicative(base: FloatArray, relative: Sequence[FloatArray]) -> list[FloatArray]:
    """Exact Shapley values of f(S) = base x (prod_{j in S} (1 + r_j) - 1), one array per player."""
    n = len(relative)
    factors = [1.0 + r for r in relative]
    weights = [math.factorial(k) * math.factorial(n - 1 - k) / math.factorial(n) for k in range(n)]
    values = []
    for player in range(n):
        # elementary symmetric polynomials e_0..e_{n-1} of the other players' factors
        elementary = [np.ones_like(base)] + [np.zeros_like(base) for _ in range(n - 1)]
        for other in (factors[j] for j in range(n) if j != player):
            for k in range(n - 1, 0, -1):
                elementary[k] = elementary[k] + elementary[k - 1] * other
        mean_other = sum(weight * poly for weight, poly in zip(weights, elementary, strict=True))
        values.append(base * relative[player] * mean_other)
    return values


def composite_effect(payload: Mapping[str, Any], ctx: EffectContext) -> Effect:
    components: list[Mapping[str, Any]] = list(payload["components"])
    if not components:
        return Effect(ctx.zeros())
    labels = node_labels(components)
    effects = [evaluate_node(component, ctx) for component in components]
    weights = [
        component_weight(payload["weights"], label, index, component["driver_type"])
        for index, (label, component) in enumerate(zip(labels, components, strict=True))
    ]
    # scales[j]: what each unit of component j's own move contributes, per curve and tenor
    composition = payload["composition_type"]
    if composition == "multiplicative":
        base = ctx.base
        moves = [weight * effect.total for weight, effect in zip(weights, effects, strict=True)]
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = [np.where(base == 0, 0.0, move / base) for move in moves]
            shapley = shapley_multiplicative(base, relative)
            scales = [
                np.where(base == 0, weight, np.where(effect.total != 0, value / effect.total, 0.0))
                for weight, effect, value in zip(weights, effects, shapley, strict=True)
            ]
    elif composition == "conditional":
        chosen = np.full(ctx.shape, -1)
        for index, component in enumerate(components):
            holds = evaluate_conditions(
                component.get("conditions") or [],
                component.get("evaluation_logic", "all"),
                component.get("custom_logic"),
                ctx,
            )
            chosen = np.where((chosen < 0) & holds, index, chosen)
        scales = [np.where(chosen == index, weight, 0.0) for index, weight in enumerate(weights)]
    else:
        scales = [ctx.full(weight) for weight in weights]
    parts: list[Part] = []
    for label, component, effect, scale in zip(labels, components, effects, scales, strict=True):
        parts.extend(_component_parts(label, component["driver_type"], effect, scale))
    return Effect(np.sum([part.values for part in parts], axis=0), tuple(parts))


def composite_check(payload: Mapping[str, Any], path: str) -> list[ValidationResult]:
    results: list[ValidationResult] = []
    components = list(payload["components"])
    composition = payload["composition_type"]
    if not components:
        results.append(
            warning("EMPTY_COMPONENTS", "composite has no components and moves nothing", f"{path}.components")
        )
    unconditional_at: int | None = None
    for index, component in enumerate(components):
        component_path = f"{path}.components[{index}]"
        results.extend(
            validate_node(
                component,
                component_path,
                missing_type_code="MISSING_COMPONENT_DRIVER_TYPE",
                shape_code="INVALID_COMPONENT_FORMAT",
                allow_stochastic=False,
            )
        )
        if not isinstance(component, Mapping):
            continue
        has_conditions = component.get("conditions") is not None
        if composition != "conditional":
            if has_conditions:
                results.append(
                    warning(
                        "CONDITIONS_IGNORED",
                        f"conditions only apply when composition_type is conditional, not {composition}",
                        f"{component_path}.conditions",
                    )
                )
            continue
        if unconditional_at is not None:
            results.append(
                warning(
                    "UNREACHABLE_COMPONENT",
                    f"component {unconditional_at} has no conditions, so this one never applies",
                    component_path,
                    "give the earlier component conditions or move it last",
                )
            )
        if has_conditions:
            results.extend(
                validate_conditions(
                    component["conditions"],
                    component.get("evaluation_logic", "all"),
                    component.get("custom_logic"),
                    component_path,
                )
            )
        elif unconditional_at is None:
            unconditional_at = index
    results.extend(_check_weights(payload, components, path))
    if payload["validation_rules"]:
        results.append(
            info(
                "VALIDATION_RULES_IGNORED",
                "validation_rules are stored but not evaluated",
                f"{path}.validation_rules",
            )
        )
    return results


def _check_weights(payload: Mapping[str, Any], components: list[Any], path: str) -> list[ValidationResult]:
    weights = payload["weights"]
    if not weights:
        return []
    results: list[ValidationResult] = []
    nodes = [component for component in components if isinstance(component, Mapping)]
    known = set(node_labels(nodes)) | {str(i) for i in range(len(components))}
    known |= {str(node.get("driver_type")) for node in nodes}
    for key, value in weights.items():
        if not is_number(value) or not math.isfinite(value):
            results.append(
                error("INVALID_TYPE", f"weight {key!r} must be a finite number", f"{path}.weights.{key}")
            )
        elif key not in known:
            results.append(
                warning(
                    "UNKNOWN_WEIGHT_KEY",
                    f"weight {key!r} matches no component and is ignored",
                    f"{path}.weights.{key}",
                    "key weights by component name, index or driver_type",
                )
            )
    if results or payload["composition_type"] != "additive":
        return results
    labels = node_labels(nodes)
    total = sum(
        component_weight(weights, label, index, str(node.get("driver_type")))
        for index, (label, node) in enumerate(zip(labels, nodes, strict=True))
    )
    if not math.isclose(total, 1.0, abs_tol=1e-9):
        results.append(
            info(
                "WEIGHTS_NOT_NORMALISED",
                f"weights sum to {total:g}; they scale component effects and are not normalised",
                f"{path}.weights",
            )
        )
    return results


DRIVER = Driver(name="composite", fields=FIELDS, docs=DOCS, effect=composite_effect, check=composite_check)
