"""What every scenario driver is made of: a payload schema, validation results, and the effect contract.

A driver is a `Driver` value (plain data plus two functions), not a subclass: its module builds one and
`apps.scenarios.drivers` registers it. Effects are additive price moves on a grid of curves x tenors.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class ValidationResult:
    """One issue found in a scenario's assumptions (spec 4: severity, code, message, field path, hint)."""

    severity: Severity
    code: str
    message: str
    field_path: str
    suggestion: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "field_path": self.field_path,
            "suggestion": self.suggestion,
        }


def error(code: str, message: str, path: str, suggestion: str | None = None) -> ValidationResult:
    return ValidationResult(Severity.ERROR, code, message, path, suggestion)


def warning(code: str, message: str, path: str, suggestion: str | None = None) -> ValidationResult:
    return ValidationResult(Severity.WARNING, code, message, path, suggestion)


def info(code: str, message: str, path: str, suggestion: str | None = None) -> ValidationResult:
    return ValidationResult(Severity.INFO, code, message, path, suggestion)


def has_errors(results: Sequence[ValidationResult]) -> bool:
    return any(result.severity is Severity.ERROR for result in results)


# --- payload schema ---------------------------------------------------------------------------------------


class Kind(StrEnum):
    """JSON types a payload field may take; `date` is an ISO `YYYY-MM-DD` string."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    ARRAY = "array"
    OBJECT = "object"
    DATE = "date"


@dataclass(frozen=True)
class FieldSpec:
    """One payload field: its JSON type, whether it is required, its default, allowed values and range."""

    name: str
    kind: Kind
    description: str
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"description": self.description}
        if self.kind is Kind.DATE:
            schema.update(type="string", format="date")
        else:
            schema["type"] = self.kind.value
        if self.choices:
            schema["enum"] = list(self.choices)
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.exclusive_minimum is not None:
            schema["exclusiveMinimum"] = self.exclusive_minimum
        if self.default is not None:
            schema["default"] = self.default
        return schema


def is_number(value: object) -> bool:
    """A JSON number: int or float, never bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_iso_date(value: object) -> date | None:
    """`YYYY-MM-DD` (or a date) to a date; anything else to None."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _type_ok(kind: Kind, value: object) -> bool:
    match kind:
        case Kind.STRING:
            return isinstance(value, str)
        case Kind.INTEGER:
            return isinstance(value, int) and not isinstance(value, bool)
        case Kind.NUMBER:
            return is_number(value)
        case Kind.BOOLEAN:
            return isinstance(value, bool)
        case Kind.ARRAY:
            return isinstance(value, list | tuple)
        case Kind.OBJECT:
            return isinstance(value, Mapping)
        case Kind.DATE:
            return parse_iso_date(value) is not None
    return False  # pragma: no cover - exhaustive match


_KIND_NOUN = {
    Kind.STRING: "a string",
    Kind.INTEGER: "an integer",
    Kind.NUMBER: "a number",
    Kind.BOOLEAN: "a boolean",
    Kind.ARRAY: "an array",
    Kind.OBJECT: "an object",
    Kind.DATE: "an ISO date (YYYY-MM-DD)",
}


def _check_field(spec: FieldSpec, value: object, path: str) -> list[ValidationResult]:
    if not _type_ok(spec.kind, value):
        code = "INVALID_DATE" if spec.kind is Kind.DATE and isinstance(value, str) else "INVALID_TYPE"
        return [error(code, f"{spec.name} must be {_KIND_NOUN[spec.kind]}, got {value!r}", path)]
    if spec.kind is Kind.STRING and spec.required and not str(value).strip():
        return [error("EMPTY_VALUE", f"{spec.name} must not be empty", path)]
    if spec.choices and value not in spec.choices:
        close = difflib.get_close_matches(str(value), spec.choices, n=1)
        return [
            error(
                "INVALID_CHOICE",
                f"{spec.name} must be one of {', '.join(spec.choices)}; got {value!r}",
                path,
                f"did you mean {close[0]!r}?" if close else None,
            )
        ]
    if spec.kind in (Kind.INTEGER, Kind.NUMBER):
        number = float(value)  # type: ignore[arg-type]  # checked by _type_ok
        if not math.isfinite(number):
            return [error("OUT_OF_RANGE", f"{spec.name} must be finite", path)]
        if spec.minimum is not None and number < spec.minimum:
            return [error("OUT_OF_RANGE", f"{spec.name} must be >= {spec.minimum:g}; got {value}", path)]
        if spec.maximum is not None and number > spec.maximum:
            return [error("OUT_OF_RANGE", f"{spec.name} must be <= {spec.maximum:g}; got {value}", path)]
        if spec.exclusive_minimum is not None and number <= spec.exclusive_minimum:
            return [
                error("OUT_OF_RANGE", f"{spec.name} must be > {spec.exclusive_minimum:g}; got {value}", path)
            ]
    return []


def validate_fields(
    payload: Mapping[str, Any], fields: Sequence[FieldSpec], path: str
) -> list[ValidationResult]:
    """Check presence, JSON type, allowed values and range of each field; warn on fields nobody reads.

    A field whose value is null counts as absent.
    """
    results: list[ValidationResult] = []
    known = {spec.name for spec in fields}
    for spec in fields:
        value = payload.get(spec.name)
        if value is None:
            if spec.required:
                results.append(
                    error("REQUIRED_FIELD_MISSING", f"{spec.name} is required", f"{path}.{spec.name}")
                )
            continue
        results.extend(_check_field(spec, value, f"{path}.{spec.name}"))
    for name in payload:
        if name not in known:
            close = difflib.get_close_matches(str(name), sorted(known), n=1)
            results.append(
                warning(
                    "UNKNOWN_FIELD",
                    f"{name} is not a field of this payload and is ignored",
                    f"{path}.{name}",
                    f"did you mean {close[0]!r}?" if close else None,
                )
            )
    return results


def with_defaults(payload: Mapping[str, Any], fields: Sequence[FieldSpec]) -> dict[str, Any]:
    """The payload with every absent or null field set to its default."""
    filled = dict(payload)
    for spec in fields:
        if filled.get(spec.name) is None:
            filled[spec.name] = spec.default
    return filled


# --- effects ----------------------------------------------------------------------------------------------


class Part(NamedTuple):
    """One labelled contribution to a composite's move; `driver_type` is the leaf driver that made it."""

    label: str
    driver_type: str
    values: FloatArray


@dataclass(frozen=True)
class Effect:
    """A driver's additive price move, shape (n_curves, n_tenors).

    `parts` optionally breaks `total` down into labelled contributions that sum to it exactly (composites);
    an empty `parts` means the driver is a single contribution.
    """

    total: FloatArray
    parts: tuple[Part, ...] = ()


@dataclass(frozen=True)
class EffectContext:
    """The grid a driver moves: base mids per curve and tenor, the tenor calendar and the as-of.

    Months are integer indexes (months since 1970-01). `reference_curves` maps curve keys a payload may name
    (`reference_curve_key`, `reference_series`) to mids per tenor.
    """

    asof: date
    base: FloatArray
    curve_keys: tuple[str, ...]
    tenor_types: tuple[str, ...]
    month_index: IntArray
    reference_curves: Mapping[str, FloatArray]
    base_value: float = 50.0

    @property
    def shape(self) -> tuple[int, int]:
        return (self.base.shape[0], self.base.shape[1])

    @property
    def asof_month_index(self) -> int:
        return (self.asof.year - 1970) * 12 + self.asof.month - 1

    @property
    def months_ahead(self) -> IntArray:
        """Whole months from the as-of month to each contract month (negative before the as-of)."""
        return self.month_index - self.asof_month_index

    @property
    def contract_year(self) -> IntArray:
        return 1970 + self.month_index // 12

    @property
    def calendar_month(self) -> IntArray:
        return self.month_index % 12 + 1

    def zeros(self) -> FloatArray:
        return np.zeros(self.shape)

    def full(self, values: npt.ArrayLike) -> FloatArray:
        """`values` broadcast to the grid, as a fresh float array."""
        return np.broadcast_to(np.asarray(values, dtype=np.float64), self.shape).copy()

    def reference_curve(self, key: str | None) -> FloatArray | None:
        """Mids per tenor of a curve named by a payload, or None when it is not known to this run."""
        if not key:
            return None
        return self.reference_curves.get(key)


def month_index_of(day: date) -> int:
    return (day.year - 1970) * 12 + day.month - 1


@dataclass(frozen=True)
class Driver:
    """A driver type: its name, payload schema, documentation, semantic checks and effect.

    `check(payload, path)` runs only once the schema checks pass, with defaults filled in.
    `effect(payload, ctx)` receives a payload with defaults filled in and returns the deterministic move.
    A driver with a `shock` is stochastic: `shock(payload, brownian, tau)` maps Brownian paths W(tau), shape
    (n_paths, n_tau), over tenor time tau (years from the as-of) to price factors F of the same shape; the
    engine moves the price level by (F - 1).
    """

    name: str
    fields: tuple[FieldSpec, ...]
    docs: str
    effect: Callable[[Mapping[str, Any], EffectContext], Effect]
    check: Callable[[Mapping[str, Any], str], list[ValidationResult]] = lambda payload, path: []
    shock: Callable[[Mapping[str, Any], FloatArray, FloatArray], FloatArray] | None = None

    @property
    def stochastic(self) -> bool:
        return self.shock is not None

    def validate(self, payload: Mapping[str, Any], path: str = "payload") -> list[ValidationResult]:
        """Every issue with this payload; field paths start at `path`."""
        results = validate_fields(payload, self.fields, path)
        if not has_errors(results):
            results.extend(self.check(self.with_defaults(payload), path))
        return results

    def with_defaults(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return with_defaults(payload, self.fields)

    def json_schema(self) -> dict[str, Any]:
        """The payload schema as JSON Schema (for `scenario_driver.parameter_schema` and the API docs)."""
        return {
            "title": self.name,
            "description": self.docs,
            "type": "object",
            "required": [spec.name for spec in self.fields if spec.required],
            "properties": {spec.name: spec.json_schema() for spec in self.fields},
        }
