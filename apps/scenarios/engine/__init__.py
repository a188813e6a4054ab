"""The scenario engine: pure, vectorised numpy; no Django, database or Celery.

result = run_scenario(CurveSet(...), assumptions, asof=date(2025, 9, 12), options=EngineOptions(seed=7))
rows = scenario_output_rows(result, asof_date=..., scenario_id=..., tenant_id=..., run_id=...)
"""

from apps.scenarios.engine.rows import SCENARIO_OUTPUT_SCHEMA, scenario_output_rows, scenario_output_table
from apps.scenarios.engine.run import run_scenario
from apps.scenarios.engine.types import (
    CurveSet,
    EngineOptions,
    RunCancelled,
    ScenarioResult,
    ScenarioValidationError,
)

__all__ = [
    "SCENARIO_OUTPUT_SCHEMA",
    "CurveSet",
    "EngineOptions",
    "ScenarioValidationError",
    "RunCancelled",
    "ScenarioResult",
    "run_scenario",
    "scenario_output_rows",
    "scenario_output_table",
]
