"""What a caller may ask for: a scenario's curves and a run's options, and the checks both pass before
anything is written. Every problem is an ``aurum.errors.Issue`` (field, message, code, severity,
suggestion); the driver validator's results keep their severity and suggestion."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from apps.scenarios.drivers import validate_assumptions, validation_summary
from apps.scenarios.drivers.base import ValidationResult, has_errors
from apps.scenarios.engine.rows import METRICS
from apps.scenarios.models import ScenarioRun
from aurum.api.idempotency import KEY_RE
from aurum.errors import InvalidInputError, Issue
from aurum.lakehouse.queries import DIMENSIONS

CODE_VERSION = "aurum-scenarios-1"
MAX_NAME = 255
MAX_ASSUMPTIONS = 100
MAX_TAGS = 50
MAX_CURVE_KEYS = 500
MAX_BULK_RUNS = 100
MAX_PATHS = 100_000
DEFAULT_PATHS = 1000
IDEMPOTENCY_KEY_RE = KEY_RE  # the API toolkit's rule for the header, applied to body fields too
INVALID_SLUG = "invalid-scenario"


@dataclass(frozen=True)
class CurveSelection:
    """The curves a scenario applies to: explicit keys, or a dimension filter; and the base as-of."""

    curve_keys: tuple[str, ...] = ()
    curve_filter: Mapping[str, str] = field(default_factory=dict)
    base_asof: date | None = None


@dataclass(frozen=True)
class RunOptions:
    """``ScenarioRunOptions`` of the original API. ``parameters`` may hold n_paths (Monte Carlo paths, default
    1000, at most 100,000) and metrics (default mid, uplift, policy_uplift). ``max_memory_mb`` caps what the
    worker may allocate for the run's arrays (checked before computing)."""

    priority: str = ScenarioRun.Priority.NORMAL
    seed: int | None = None
    code_version: str | None = None
    timeout_minutes: int = 60
    max_retries: int = 3
    max_memory_mb: int = 1024
    parameters: Mapping[str, Any] = field(default_factory=dict)
    environment: Mapping[str, str] = field(default_factory=dict)
    idempotency_key: str | None = None

    @property
    def n_paths(self) -> int:
        return int(self.parameters.get("n_paths", DEFAULT_PATHS))


def issue(code: str, message: str, field_path: str, suggestion: str | None = None) -> Issue:
    return Issue(field_path, message, code, "error", suggestion)


def issues_from_results(results: Iterable[ValidationResult]) -> list[Issue]:
    """The driver validator's results (errors, warnings, info) as issues."""
    return [
        Issue(result.field_path, result.message, result.code, result.severity.value, result.suggestion)
        for result in results
    ]


def invalid(issues: Sequence[Issue]) -> InvalidInputError:
    """The 400 for a scenario or run request: ``errors`` lists every issue."""
    return InvalidInputError.of(*issues, slug=INVALID_SLUG)


def scenario_field_issues(
    *, name: str, assumptions: Sequence[Any], tags: Sequence[Any], selection: CurveSelection
) -> list[Issue]:
    issues: list[Issue] = []
    if not name.strip() or len(name) > MAX_NAME:
        issues.append(issue("INVALID_NAME", f"name must be 1-{MAX_NAME} characters", "name"))
    if len(assumptions) > MAX_ASSUMPTIONS:
        issues.append(issue("TOO_MANY_ASSUMPTIONS", f"at most {MAX_ASSUMPTIONS} assumptions", "assumptions"))
    if len(tags) > MAX_TAGS or not all(isinstance(tag, str) for tag in tags):
        issues.append(issue("INVALID_TAGS", f"at most {MAX_TAGS} tags, each a string", "tags"))
    if len(selection.curve_keys) > MAX_CURVE_KEYS:
        issues.append(issue("TOO_MANY_CURVES", f"at most {MAX_CURVE_KEYS} curve keys", "curve_keys"))
    unknown = sorted(set(selection.curve_filter) - set(DIMENSIONS))
    if unknown:
        issues.append(
            issue(
                "UNKNOWN_DIMENSION",
                f"unknown curve filter field(s): {', '.join(unknown)}",
                "curve_filter",
                f"one of: {', '.join(DIMENSIONS)}",
            )
        )
    if selection.curve_keys and selection.curve_filter:
        issues.append(issue("AMBIGUOUS_CURVES", "give curve_keys or curve_filter, not both", "curve_filter"))
    return issues


def assumptions_check(assumptions: Sequence[Any]) -> list[ValidationResult]:
    """The driver validator's results; raises InvalidInputError (every result) when one is an error."""
    results = validate_assumptions(list(assumptions))
    if has_errors(results):
        raise invalid(issues_from_results(results))
    return results


def run_option_issues(options: RunOptions, index: str = "") -> list[Issue]:
    """What is wrong with one run's options (``index``: ``runs[3].`` in a bulk request)."""
    issues: list[Issue] = []
    n_paths = options.parameters.get("n_paths", DEFAULT_PATHS)
    if not isinstance(n_paths, int) or isinstance(n_paths, bool) or not 1 <= n_paths <= MAX_PATHS:
        issues.append(
            issue(
                "INVALID_N_PATHS", f"n_paths must be an integer 1-{MAX_PATHS}", f"{index}parameters.n_paths"
            )
        )
    metrics = options.parameters.get("metrics", list(METRICS))
    if not isinstance(metrics, list) or not metrics or not set(metrics) <= set(METRICS):
        issues.append(
            issue(
                "INVALID_METRICS",
                f"metrics must be a non-empty subset of {list(METRICS)}",
                f"{index}parameters.metrics",
            )
        )
    if options.priority not in ScenarioRun.Priority.values:
        issues.append(
            issue("INVALID_PRIORITY", "priority must be low, normal, high or critical", f"{index}priority")
        )
    key = options.idempotency_key
    if key is not None and not IDEMPOTENCY_KEY_RE.match(key):
        issues.append(
            issue(
                "INVALID_IDEMPOTENCY_KEY",
                "idempotency_key: 1-255 characters of A-Z a-z 0-9 _ - . : /",
                f"{index}idempotency_key",
            )
        )
    return issues


def validation_report(assumptions: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The spec's validation result for a scenario's assumptions (errors, warnings and info)."""
    return validation_summary(validate_assumptions(list(assumptions)))
