"""Scenario drivers: one module per driver type, registered here.

Adding a driver means writing a module that builds a `Driver` (name, payload fields, docs, checks, effect) and
adding it to `_MODULES` below.
"""

from apps.scenarios.drivers import (
    composite,
    conditional,
    fleet_change,
    fuel_curve,
    load_growth,
    policy,
    stochastic,
    time_series,
)
from apps.scenarios.drivers.base import Driver, Effect, EffectContext, Severity, ValidationResult
from apps.scenarios.drivers.registry import driver_names, evaluate_node, get_driver, node_labels, register
from apps.scenarios.drivers.validation import validate_assumptions, validation_summary

_MODULES = (policy, load_growth, fuel_curve, fleet_change, composite, stochastic, conditional, time_series)
for _module in _MODULES:
    register(_module.DRIVER)

__all__ = [
    "Driver",
    "Effect",
    "EffectContext",
    "Severity",
    "ValidationResult",
    "driver_names",
    "evaluate_node",
    "get_driver",
    "node_labels",
    "register",
    "validate_assumptions",
    "validation_summary",
]
