"""The driver registry: driver type name → `Driver`, plus validation and evaluation of one driver node.

A node is `{"driver_type": ..., "payload": {...}}`, optionally with `name` (or `assumption_id`) to label it in
attribution and correlation. Top-level assumptions, composite components, conditional branches and a
stochastic driver's `base_driver` are all nodes.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from apps.scenarios.drivers.base import Driver, Effect, EffectContext, ValidationResult, error

_DRIVERS: dict[str, Driver] = {}


def register(driver: Driver) -> Driver:
    """Make `driver` available under its name; a name can be registered once."""
    if driver.name in _DRIVERS:
        raise ValueError(f"driver {driver.name!r} is already registered")
    _DRIVERS[driver.name] = driver
    return driver


def get_driver(name: str) -> Driver | None:
    return _DRIVERS.get(name)


def driver_names() -> tuple[str, ...]:
    return tuple(_DRIVERS)


def validate_node(
    node: object,
    path: str,
    *,
    missing_type_code: str = "MISSING_DRIVER_TYPE",
    shape_code: str = "INVALID_ASSUMPTION",
    allow_stochastic: bool = True,
) -> list[ValidationResult]:
    """Issues with one node: its shape, its driver type, and its payload (field paths start at `path`)."""
    if not isinstance(node, Mapping):
        return [error(shape_code, "must be an object with driver_type and payload", path)]
    driver_type = node.get("driver_type")
    if driver_type is None:
        return [
            error(
                missing_type_code,
                "driver_type is required",
                f"{path}.driver_type",
                f"one of: {', '.join(_DRIVERS)}",
            )
        ]
    if not isinstance(driver_type, str):
        return [
            error("INVALID_TYPE", f"driver_type must be a string, got {driver_type!r}", f"{path}.driver_type")
        ]
    driver = _DRIVERS.get(driver_type)
    if driver is None:
        close = difflib.get_close_matches(driver_type, list(_DRIVERS), n=1)
        return [
            error(
                "UNSUPPORTED_DRIVER_TYPE",
                f"unsupported driver type {driver_type!r}",
                f"{path}.driver_type",
                f"did you mean {close[0]!r}?" if close else f"one of: {', '.join(_DRIVERS)}",
            )
        ]
    if driver.stochastic and not allow_stochastic:
        return [
            error(
                "STOCHASTIC_NOT_TOP_LEVEL",
                "a stochastic driver can only be a top-level assumption",
                f"{path}.driver_type",
                "move it to the scenario's assumptions and give its base_driver the deterministic part",
            )
        ]
    payload = node.get("payload")
    if payload is None:
        payload = {}
    if not isinstance(payload, Mapping):
        return [error("INVALID_TYPE", "payload must be an object", f"{path}.payload")]
    return driver.validate(payload, f"{path}.payload")


def evaluate_node(node: Mapping[str, Any], ctx: EffectContext) -> Effect:
    """The effect of one valid node on the context's grid."""
    driver = _DRIVERS[node["driver_type"]]
    return driver.effect(driver.with_defaults(node.get("payload") or {}), ctx)


def node_labels(nodes: Sequence[Mapping[str, Any]]) -> list[str]:
    """A unique label per node: its `name`, else `assumption_id`, else its driver type; repeats get `#2`..."""
    labels: list[str] = []
    seen: dict[str, int] = {}
    for node in nodes:
        label = str(node.get("name") or node.get("assumption_id") or node.get("driver_type") or "driver")
        seen[label] = seen.get(label, 0) + 1
        labels.append(label if seen[label] == 1 else f"{label}#{seen[label]}")
    return labels
