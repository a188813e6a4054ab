"""Validation of a scenario's assumption list (spec 4): per-assumption schemas plus cross-assumption rules."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from apps.scenarios.drivers.base import Severity, ValidationResult, error, has_errors, warning
from apps.scenarios.drivers.registry import get_driver, node_labels, validate_node
from apps.scenarios.drivers.stochastic import correlation_issues


def validate_assumptions(assumptions: object) -> list[ValidationResult]:
    """Every issue with a scenario's assumptions, each with a field path like `assumptions[2].payload.fuel`.

    Any `error` makes the scenario invalid; warnings and info are advice.
    """
    if not isinstance(assumptions, list | tuple):
        return [error("INVALID_TYPE", "assumptions must be an array", "assumptions")]
    results: list[ValidationResult] = []
    valid: set[int] = set()
    for index, assumption in enumerate(assumptions):
        node_results = validate_node(assumption, f"assumptions[{index}]")
        results.extend(node_results)
        if not has_errors(node_results):
            valid.add(index)
    nodes = [
        (index, node)
        for index, node in enumerate(assumptions)
        if isinstance(node, Mapping) and isinstance(node.get("driver_type"), str)
    ]
    results.extend(_duplicate_types(nodes))
    results.extend(_duplicate_names(nodes))
    results.extend(_correlations(nodes, valid))
    return results


def _duplicate_types(nodes: Sequence[tuple[int, Mapping[str, Any]]]) -> list[ValidationResult]:
    results: list[ValidationResult] = []
    seen: Counter[str] = Counter()
    for index, node in nodes:
        driver_type = node["driver_type"]
        seen[driver_type] += 1
        if seen[driver_type] == 2 and driver_type != "composite" and get_driver(driver_type) is not None:
            results.append(
                warning(
                    "MULTIPLE_ASSUMPTIONS_SAME_TYPE",
                    f"more than one {driver_type} assumption; consider a composite driver",
                    f"assumptions[{index}].driver_type",
                    "use a composite driver to combine assumptions of the same type",
                )
            )
    return results


def _duplicate_names(nodes: Sequence[tuple[int, Mapping[str, Any]]]) -> list[ValidationResult]:
    results: list[ValidationResult] = []
    seen: set[str] = set()
    for index, node in nodes:
        name = node.get("name")
        if name is None:
            continue
        if name in seen:
            results.append(
                error(
                    "DUPLICATE_ASSUMPTION_NAME",
                    f"another assumption is already named {name!r}",
                    f"assumptions[{index}].name",
                    "names label attribution and correlations",
                )
            )
        seen.add(name)
    return results


def _correlations(nodes: Sequence[tuple[int, Mapping[str, Any]]], valid: set[int]) -> list[ValidationResult]:
    """Correlations across stochastic assumptions (only those whose own payload is valid)."""
    labels = node_labels([node for _, node in nodes])
    stochastic = [
        (label, index, node)
        for label, (index, node) in zip(labels, nodes, strict=True)
        if node["driver_type"] == "stochastic" and index in valid
    ]
    return correlation_issues(
        [label for label, _, _ in stochastic],
        [node["payload"].get("correlation_matrix") for _, _, node in stochastic],
        [f"assumptions[{index}].payload" for _, index, _ in stochastic],
    )


def validation_summary(results: Sequence[ValidationResult]) -> dict[str, Any]:
    """The spec's result shape: {is_valid, issues[...], metrics{error_count, warning_count, info_count}}."""
    counts = Counter(result.severity for result in results)
    return {
        "is_valid": counts[Severity.ERROR] == 0,
        "issues": [result.as_dict() for result in results],
        "metrics": {
            "error_count": counts[Severity.ERROR],
            "warning_count": counts[Severity.WARNING],
            "info_count": counts[Severity.INFO],
        },
    }
