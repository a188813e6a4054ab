"""Driver registry and validation: every driver type x valid payload, missing fields, wrong types, ranges,
warnings and info, each pinned by code, field path and severity."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from apps.scenarios.drivers import (
    driver_names,
    get_driver,
    register,
    validate_assumptions,
    validation_summary,
)

POLICY = {"driver_type": "policy", "payload": {"policy_name": "winter_cap"}}
FUEL = {"driver_type": "fuel_curve", "payload": {"fuel": "coal", "reference_series": "API2"}}

VALID: dict[str, dict[str, Any]] = {
    "policy": {"policy_name": "carbon_tax", "start_year": 2026, "description": "EU ETS phase 4"},
    "load_growth": {
        "annual_growth_pct": 2.5,
        "region": "PJM",
        "start_year": 2025,
        "end_year": 2030,
        "reference_curve_key": "PJM_WEST",
    },
    "fuel_curve": {"fuel": "natural_gas", "reference_series": "HH", "basis_points_adjustment": 25},
    "fleet_change": {
        "fleet_id": "F1",
        "change_type": "retire",
        "effective_date": "2026-06-01",
        "capacity_mw": 500,
    },
    "composite": {
        "components": [POLICY, FUEL],
        "composition_type": "multiplicative",
        "weights": {"policy": 0.5},
    },
    "stochastic": {
        "distribution_type": "normal",
        "parameters": {"mean": 0.0, "std": 0.2},
        "base_driver": POLICY,
    },
    "conditional": {
        "conditions": [{"field": "calendar_month", "operator": "in", "value": [12, 1, 2]}],
        "true_driver": POLICY,
        "false_driver": FUEL,
        "evaluation_logic": "all",
    },
    "time_series": {
        "series_type": "seasonal",
        "base_values": {"level": 1.0, "2026-01": 3.0},
        "seasonal_params": {"amplitude": 2.0, "peak_month": 1},
        "forecast_horizon": 24,
    },
}

# the spec's required fields (section 4 table and the original payload models), written out independently
REQUIRED = {
    "policy": ["policy_name"],
    "load_growth": ["annual_growth_pct"],
    "fuel_curve": ["fuel", "reference_series"],
    "fleet_change": ["fleet_id", "change_type", "effective_date", "capacity_mw"],
    "composite": ["components"],
    "stochastic": ["distribution_type", "parameters", "base_driver"],
    "conditional": ["conditions", "true_driver"],
    "time_series": ["series_type", "base_values"],
}


def issues(driver_type: str, payload: Any) -> set[tuple[str, str, str]]:
    results = validate_assumptions([{"driver_type": driver_type, "payload": payload}])
    return {(r.code, r.field_path, r.severity.value) for r in results}


def with_changes(driver_type: str, **changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(VALID[driver_type])
    payload.update(changes)
    return payload


def test_registry_holds_the_eight_spec_drivers_with_docs_and_schema() -> None:
    assert set(driver_names()) == set(REQUIRED)
    for name, required in REQUIRED.items():
        driver = get_driver(name)
        assert driver is not None
        assert driver.docs.strip()
        schema = driver.json_schema()
        assert schema["required"] == required
        assert set(required) <= set(schema["properties"])


def test_a_driver_name_registers_once() -> None:
    driver = get_driver("policy")
    assert driver is not None
    with pytest.raises(ValueError, match="already registered"):
        register(driver)


@pytest.mark.parametrize("driver_type", sorted(VALID))
def test_valid_payload_has_no_issues(driver_type: str) -> None:
    assert issues(driver_type, VALID[driver_type]) == set()


@pytest.mark.parametrize(
    ("driver_type", "field"), [(driver, field) for driver, fields in REQUIRED.items() for field in fields]
)
def test_missing_required_field_is_an_error(driver_type: str, field: str) -> None:
    payload = copy.deepcopy(VALID[driver_type])
    del payload[field]
    assert ("REQUIRED_FIELD_MISSING", f"assumptions[0].payload.{field}", "error") in issues(
        driver_type, payload
    )


@pytest.mark.parametrize(
    ("driver_type", "changes", "code", "path"),
    [
        ("policy", {"policy_name": 42}, "INVALID_TYPE", "policy_name"),
        ("policy", {"policy_name": "  "}, "EMPTY_VALUE", "policy_name"),
        ("policy", {"start_year": "2026"}, "INVALID_TYPE", "start_year"),
        ("load_growth", {"annual_growth_pct": "2.5"}, "INVALID_TYPE", "annual_growth_pct"),
        ("load_growth", {"start_year": 2025.5}, "INVALID_TYPE", "start_year"),
        ("load_growth", {"region": ["PJM"]}, "INVALID_TYPE", "region"),
        ("fuel_curve", {"fuel": 3}, "INVALID_TYPE", "fuel"),
        ("fuel_curve", {"basis_points_adjustment": "25"}, "INVALID_TYPE", "basis_points_adjustment"),
        ("fleet_change", {"effective_date": "June 2026"}, "INVALID_DATE", "effective_date"),
        ("fleet_change", {"effective_date": "2026-02-30"}, "INVALID_DATE", "effective_date"),
        ("fleet_change", {"capacity_mw": True}, "INVALID_TYPE", "capacity_mw"),
        ("composite", {"components": {"a": 1}}, "INVALID_TYPE", "components"),
        ("composite", {"weights": [0.5]}, "INVALID_TYPE", "weights"),
        ("composite", {"weights": {"policy": "half"}}, "INVALID_TYPE", "weights.policy"),
        ("stochastic", {"parameters": [0.2]}, "INVALID_TYPE", "parameters"),
        ("stochastic", {"parameters": {"std": "0.2"}}, "INVALID_TYPE", "parameters.std"),
        (
            "stochastic",
            {"correlation_matrix": {"stochastic": {"other": "high"}}},
            "INVALID_TYPE",
            "correlation_matrix.stochastic.other",
        ),
        ("conditional", {"conditions": "winter"}, "INVALID_TYPE", "conditions"),
        ("conditional", {"true_driver": "policy"}, "INVALID_TYPE", "true_driver"),
        (
            "conditional",
            {"conditions": [{"field": "calendar_month", "operator": "=", "value": "Jan"}]},
            "INVALID_TYPE",
            "conditions[0].value",
        ),
        ("time_series", {"forecast_horizon": 24.0}, "INVALID_TYPE", "forecast_horizon"),
        ("time_series", {"base_values": {"level": "1"}}, "INVALID_TYPE", "base_values.level"),
    ],
)
def test_wrong_type_is_an_error(driver_type: str, changes: dict[str, Any], code: str, path: str) -> None:
    assert (code, f"assumptions[0].payload.{path}", "error") in issues(
        driver_type, with_changes(driver_type, **changes)
    )


@pytest.mark.parametrize(
    ("driver_type", "changes", "code", "path"),
    [
        ("policy", {"start_year": 1899}, "OUT_OF_RANGE", "start_year"),
        ("policy", {"start_year": 2101}, "OUT_OF_RANGE", "start_year"),
        ("load_growth", {"annual_growth_pct": -100}, "OUT_OF_RANGE", "annual_growth_pct"),
        ("load_growth", {"end_year": 2101}, "OUT_OF_RANGE", "end_year"),
        ("load_growth", {"annual_growth_pct": float("inf")}, "OUT_OF_RANGE", "annual_growth_pct"),
        ("fuel_curve", {"fuel": "gas"}, "INVALID_CHOICE", "fuel"),
        ("fleet_change", {"capacity_mw": 0}, "OUT_OF_RANGE", "capacity_mw"),
        ("fleet_change", {"capacity_mw": -5}, "OUT_OF_RANGE", "capacity_mw"),
        ("fleet_change", {"change_type": "decommission"}, "INVALID_CHOICE", "change_type"),
        ("composite", {"composition_type": "max"}, "INVALID_CHOICE", "composition_type"),
        ("stochastic", {"distribution_type": "poisson"}, "INVALID_CHOICE", "distribution_type"),
        ("stochastic", {"parameters": {"std": -0.1}}, "OUT_OF_RANGE", "parameters.std"),
        (
            "stochastic",
            {"distribution_type": "uniform", "parameters": {"low": 0.2, "high": 0.1}},
            "OUT_OF_RANGE",
            "parameters.high",
        ),
        (
            "stochastic",
            {"distribution_type": "triangular", "parameters": {"low": -0.1, "mode": 0.3, "high": 0.2}},
            "OUT_OF_RANGE",
            "parameters.mode",
        ),
        (
            "stochastic",
            {"correlation_matrix": {"stochastic": {"other": 1.5}}},
            "OUT_OF_RANGE",
            "correlation_matrix.stochastic.other",
        ),
        (
            "stochastic",
            {"correlation_matrix": {"stochastic": {"stochastic": 0.5}}},
            "INVALID_CORRELATION",
            "correlation_matrix.stochastic.stochastic",
        ),
        ("conditional", {"evaluation_logic": "most"}, "INVALID_CHOICE", "evaluation_logic"),
        (
            "conditional",
            {"conditions": [{"field": "calendar_month", "operator": "~", "value": 1}]},
            "INVALID_OPERATOR",
            "conditions[0].operator",
        ),
        (
            "conditional",
            {"conditions": [{"field": "curve_key", "operator": "<", "value": "A"}]},
            "INVALID_OPERATOR",
            "conditions[0].operator",
        ),
        (
            "conditional",
            {"conditions": [{"field": "weather", "operator": "=", "value": 1}]},
            "UNKNOWN_CONDITION_FIELD",
            "conditions[0].field",
        ),
        (
            "conditional",
            {"conditions": [{"field": "contract_year", "operator": "between", "value": [2030, 2026]}]},
            "OUT_OF_RANGE",
            "conditions[0].value",
        ),
        (
            "conditional",
            {"conditions": [{"field": "calendar_month", "value": 1}]},
            "REQUIRED_FIELD_MISSING",
            "conditions[0].operator",
        ),
        ("time_series", {"series_type": "random"}, "INVALID_CHOICE", "series_type"),
        (
            "time_series",
            {"seasonal_params": {"amplitude": 2.0, "peak_month": 13}},
            "OUT_OF_RANGE",
            "seasonal_params.peak_month",
        ),
        (
            "time_series",
            {"series_type": "cyclical", "seasonal_params": {"amplitude": 1.0, "period_months": 0}},
            "OUT_OF_RANGE",
            "seasonal_params.period_months",
        ),
    ],
)
def test_out_of_range_or_choice_is_an_error(
    driver_type: str, changes: dict[str, Any], code: str, path: str
) -> None:
    assert (code, f"assumptions[0].payload.{path}", "error") in issues(
        driver_type, with_changes(driver_type, **changes)
    )


@pytest.mark.parametrize(
    ("driver_type", "changes", "code", "path"),
    [
        (
            "composite",
            {"components": [{"payload": {"policy_name": "x"}}]},
            "MISSING_COMPONENT_DRIVER_TYPE",
            "components[0].driver_type",
        ),
        ("composite", {"components": ["policy"]}, "INVALID_COMPONENT_FORMAT", "components[0]"),
        (
            "composite",
            {"components": [{"driver_type": "policy", "payload": {}}]},
            "REQUIRED_FIELD_MISSING",
            "components[0].payload.policy_name",
        ),
        (
            "composite",
            {"components": [{"driver_type": "stochastic", "payload": VALID["stochastic"]}]},
            "STOCHASTIC_NOT_TOP_LEVEL",
            "components[0].driver_type",
        ),
        (
            "composite",
            {"components": [{"driver_type": "weather", "payload": {}}]},
            "UNSUPPORTED_DRIVER_TYPE",
            "components[0].driver_type",
        ),
        (
            "conditional",
            {"true_driver": {"driver_type": "polcy", "payload": {}}},
            "UNSUPPORTED_DRIVER_TYPE",
            "true_driver.driver_type",
        ),
        ("conditional", {"false_driver": {"payload": {}}}, "MISSING_DRIVER_TYPE", "false_driver.driver_type"),
        ("conditional", {"evaluation_logic": "custom"}, "REQUIRED_FIELD_MISSING", "custom_logic"),
        (
            "conditional",
            {"evaluation_logic": "custom", "custom_logic": "0 and 3"},
            "INVALID_CUSTOM_LOGIC",
            "custom_logic",
        ),
        (
            "conditional",
            {"evaluation_logic": "custom", "custom_logic": "0 and (not 0"},
            "INVALID_CUSTOM_LOGIC",
            "custom_logic",
        ),
        ("stochastic", {"parameters": {"mean": 0.1}}, "REQUIRED_FIELD_MISSING", "parameters.std"),
        (
            "stochastic",
            {"base_driver": {"driver_type": "stochastic", "payload": VALID["stochastic"]}},
            "STOCHASTIC_NOT_TOP_LEVEL",
            "base_driver.driver_type",
        ),
        (
            "stochastic",
            {"base_driver": {"driver_type": "fleet_change", "payload": {"fleet_id": "x"}}},
            "REQUIRED_FIELD_MISSING",
            "base_driver.payload.capacity_mw",
        ),
        (
            "time_series",
            {"series_type": "cyclical", "seasonal_params": None},
            "REQUIRED_FIELD_MISSING",
            "seasonal_params",
        ),
        (
            "time_series",
            {"seasonal_params": {"monthly": {"13": 1.0}}},
            "INVALID_KEY",
            "seasonal_params.monthly.13",
        ),
    ],
)
def test_nested_and_semantic_errors(driver_type: str, changes: dict[str, Any], code: str, path: str) -> None:
    assert (code, f"assumptions[0].payload.{path}", "error") in issues(
        driver_type, with_changes(driver_type, **changes)
    )


@pytest.mark.parametrize(
    ("driver_type", "changes", "code", "path", "severity"),
    [
        ("policy", {"polcy_note": "x"}, "UNKNOWN_FIELD", "polcy_note", "warning"),
        (
            "load_growth",
            {"start_year": 2030, "end_year": 2025},
            "END_YEAR_BEFORE_START_YEAR",
            "end_year",
            "warning",
        ),
        ("load_growth", {"annual_growth_pct": 40}, "UNUSUAL_GROWTH_RATE", "annual_growth_pct", "warning"),
        ("load_growth", {"annual_growth_pct": 0.025}, "PERCENT_SCALE", "annual_growth_pct", "info"),
        ("load_growth", {"annual_growth_pct": 0}, "NO_EFFECT", "annual_growth_pct", "info"),
        (
            "fuel_curve",
            {"basis_points_adjustment": 20_000},
            "LARGE_BASIS_ADJUSTMENT",
            "basis_points_adjustment",
            "warning",
        ),
        ("fleet_change", {"capacity_mw": 25_000}, "LARGE_CAPACITY", "capacity_mw", "warning"),
        ("composite", {"components": []}, "EMPTY_COMPONENTS", "components", "warning"),
        ("composite", {"weights": {"nuclear": 0.5}}, "UNKNOWN_WEIGHT_KEY", "weights.nuclear", "warning"),
        (
            "composite",
            {"composition_type": "additive", "weights": {"policy": 0.5}},
            "WEIGHTS_NOT_NORMALISED",
            "weights",
            "info",
        ),
        (
            "composite",
            {"validation_rules": {"max": 3}},
            "VALIDATION_RULES_IGNORED",
            "validation_rules",
            "info",
        ),
        (
            "composite",
            {"components": [{**POLICY, "conditions": []}, FUEL]},
            "CONDITIONS_IGNORED",
            "components[0].conditions",
            "warning",
        ),
        (
            "composite",
            {"composition_type": "conditional", "components": [POLICY, FUEL]},
            "UNREACHABLE_COMPONENT",
            "components[1]",
            "warning",
        ),
        ("stochastic", {"parameters": {"std": 0.0}}, "ZERO_VOLATILITY", "parameters", "info"),
        ("stochastic", {"parameters": {"std": 1.5}}, "HIGH_VOLATILITY", "parameters.std", "warning"),
        (
            "stochastic",
            {"parameters": {"std": 0.2, "sigma": 0.3}},
            "UNKNOWN_FIELD",
            "parameters.sigma",
            "warning",
        ),
        (
            "stochastic",
            {"correlation_matrix": {"stochastic": {"gas_vol": 0.5}}},
            "UNKNOWN_CORRELATION_KEY",
            "correlation_matrix.stochastic.gas_vol",
            "warning",
        ),
        ("conditional", {"conditions": []}, "EMPTY_CONDITIONS", "conditions", "warning"),
        ("conditional", {"custom_logic": "0"}, "CUSTOM_LOGIC_IGNORED", "custom_logic", "warning"),
        ("time_series", {"forecast_horizon": 0}, "EXTREME_FORECAST_HORIZON", "forecast_horizon", "warning"),
        (
            "time_series",
            {"forecast_horizon": 9000},
            "EXTREME_FORECAST_HORIZON",
            "forecast_horizon",
            "warning",
        ),
        ("time_series", {"series_type": "trend"}, "FLAT_TREND", "trend_params", "info"),
        ("time_series", {"series_type": "trend"}, "PARAMS_IGNORED", "seasonal_params", "info"),
        (
            "time_series",
            {"series_type": "irregular", "seasonal_params": None},
            "IRREGULAR_LEVEL_ONLY",
            "series_type",
            "info",
        ),
        (
            "time_series",
            {"base_values": {"level": 1.0, "next_year": 2.0}},
            "UNKNOWN_FIELD",
            "base_values.next_year",
            "warning",
        ),
    ],
)
def test_warnings_and_info_leave_the_scenario_valid(
    driver_type: str, changes: dict[str, Any], code: str, path: str, severity: str
) -> None:
    found = issues(driver_type, with_changes(driver_type, **changes))
    assert (code, f"assumptions[0].payload.{path}", severity) in found
    assert not [issue for issue in found if issue[2] == "error"]


def test_unknown_field_suggests_the_close_name() -> None:
    results = validate_assumptions(
        [{"driver_type": "policy", "payload": {"policy_name": "x", "start_yr": 2026}}]
    )
    assert [(r.code, r.suggestion) for r in results] == [("UNKNOWN_FIELD", "did you mean 'start_year'?")]


# --- scenario level ---------------------------------------------------------------------------------------


def codes(assumptions: Any) -> set[tuple[str, str, str]]:
    return {(r.code, r.field_path, r.severity.value) for r in validate_assumptions(assumptions)}


def test_unknown_driver_type_is_an_error_with_a_suggestion() -> None:
    results = validate_assumptions([{"driver_type": "load_grwth", "payload": {}}])
    assert [(r.code, r.field_path, r.severity.value, r.suggestion) for r in results] == [
        ("UNSUPPORTED_DRIVER_TYPE", "assumptions[0].driver_type", "error", "did you mean 'load_growth'?")
    ]


@pytest.mark.parametrize(
    ("assumptions", "expected"),
    [
        ([{"payload": {}}], ("MISSING_DRIVER_TYPE", "assumptions[0].driver_type", "error")),
        (["policy"], ("INVALID_ASSUMPTION", "assumptions[0]", "error")),
        ([{"driver_type": 7}], ("INVALID_TYPE", "assumptions[0].driver_type", "error")),
        (
            [{"driver_type": "policy", "payload": ["carbon"]}],
            ("INVALID_TYPE", "assumptions[0].payload", "error"),
        ),
        ({"driver_type": "policy"}, ("INVALID_TYPE", "assumptions", "error")),
    ],
)
def test_malformed_assumptions(assumptions: Any, expected: tuple[str, str, str]) -> None:
    assert codes(assumptions) == {expected}


def test_two_assumptions_of_one_type_warn_use_composite() -> None:
    second = {"driver_type": "policy", "payload": {"policy_name": "rps"}}
    assert codes([POLICY, FUEL, second]) == {
        ("MULTIPLE_ASSUMPTIONS_SAME_TYPE", "assumptions[2].driver_type", "warning")
    }
    composite = {"driver_type": "composite", "payload": VALID["composite"]}
    assert codes([composite, composite]) == set()


def test_assumption_names_must_be_unique() -> None:
    assert ("DUPLICATE_ASSUMPTION_NAME", "assumptions[1].name", "error") in codes(
        [{**POLICY, "name": "cap"}, {**FUEL, "name": "cap"}]
    )


def stochastic_node(name: str, correlations: dict[str, float] | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"distribution_type": "normal", "parameters": {"std": 0.1}, "base_driver": {}}
    if correlations:
        payload["correlation_matrix"] = {name: correlations}
    return {"driver_type": "stochastic", "name": name, "payload": payload}


def test_correlations_across_stochastic_drivers() -> None:
    consistent = [stochastic_node("gas", {"power": 0.6}), stochastic_node("power", {"gas": 0.6})]
    assert codes(consistent) == {("MULTIPLE_ASSUMPTIONS_SAME_TYPE", "assumptions[1].driver_type", "warning")}
    conflicting = [stochastic_node("gas", {"power": 0.6}), stochastic_node("power", {"gas": 0.2})]
    assert ("CORRELATION_CONFLICT", "assumptions[1].payload.correlation_matrix.power.gas", "error") in codes(
        conflicting
    )
    not_psd = [
        stochastic_node("a", {"b": 0.9, "c": 0.9}),
        stochastic_node("b", {"c": -0.9}),
        stochastic_node("c"),
    ]
    assert ("CORRELATION_NOT_PSD", "assumptions[0].payload.correlation_matrix", "error") in codes(not_psd)


def test_validation_summary_has_the_spec_shape() -> None:
    summary = validation_summary(validate_assumptions([{"driver_type": "policy", "payload": {"x": 1}}]))
    assert summary["is_valid"] is False
    assert summary["metrics"] == {"error_count": 1, "warning_count": 1, "info_count": 0}
    assert {issue["code"] for issue in summary["issues"]} == {"REQUIRED_FIELD_MISSING", "UNKNOWN_FIELD"}
    assert set(summary["issues"][0]) == {"severity", "code", "message", "field_path", "suggestion"}
