"""Conditions that gate a driver per curve and tenor (the `conditional` driver and conditional composites).

A condition is `{"field", "operator", "value"}` over one of `CONDITION_FIELDS`. Conditions combine with
`evaluation_logic`: `all`, `any`, or `custom`, where `custom_logic` is a boolean expression over condition
indexes, e.g. `"0 and (1 or not 2)"`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from apps.scenarios.drivers.base import BoolArray, EffectContext, ValidationResult, error, is_number, warning

# field -> (kind, description). "month" values are "YYYY-MM" strings.
CONDITION_FIELDS: dict[str, tuple[str, str]] = {
    "contract_month": ("month", "the tenor's contract month, compared as YYYY-MM"),
    "contract_year": ("number", "the tenor's contract year"),
    "calendar_month": ("number", "1-12, the calendar month of the contract month"),
    "months_ahead": ("number", "whole months from the as-of month to the contract month"),
    "base_price": ("number", "the base curve mid at that curve and tenor"),
    "curve_key": ("string", "the curve's key"),
    "tenor_type": ("string", "MONTHLY, QUARTER, CALENDAR, ..."),
}
ORDERED_OPERATORS = ("<", "<=", ">", ">=", "between")
OPERATORS = ("=", "!=", "in", "not_in", *ORDERED_OPERATORS)
EVALUATION_LOGICS = ("all", "any", "custom")
_MONTH_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _scalar_ok(kind: str, value: object) -> bool:
    if kind == "number":
        return is_number(value)
    if kind == "month":
        return isinstance(value, str) and bool(_MONTH_PATTERN.match(value))
    return isinstance(value, str)


def _month_number(value: str) -> int:
    year, month = value.split("-")
    return (int(year) - 1970) * 12 + int(month) - 1


def validate_condition(condition: object, path: str) -> list[ValidationResult]:
    if not isinstance(condition, Mapping):
        return [
            error("INVALID_CONDITION", "a condition must be an object with field, operator and value", path)
        ]
    results: list[ValidationResult] = []
    for key in ("field", "operator", "value"):
        if condition.get(key) is None:
            results.append(error("REQUIRED_FIELD_MISSING", f"{key} is required", f"{path}.{key}"))
    if results:
        return results
    field, operator, value = condition["field"], condition["operator"], condition["value"]
    if field not in CONDITION_FIELDS:
        return [
            error(
                "UNKNOWN_CONDITION_FIELD",
                f"unknown condition field {field!r}",
                f"{path}.field",
                f"one of: {', '.join(CONDITION_FIELDS)}",
            )
        ]
    kind = CONDITION_FIELDS[field][0]
    if operator not in OPERATORS:
        return [
            error(
                "INVALID_OPERATOR",
                f"unknown operator {operator!r}",
                f"{path}.operator",
                f"one of: {', '.join(OPERATORS)}",
            )
        ]
    if kind == "string" and operator in ORDERED_OPERATORS:
        return [error("INVALID_OPERATOR", f"{field} supports only =, !=, in and not_in", f"{path}.operator")]
    noun = {"number": "a number", "month": "a YYYY-MM string", "string": "a string"}[kind]
    if operator in ("in", "not_in"):
        if not isinstance(value, list | tuple) or not all(_scalar_ok(kind, item) for item in value):
            return [error("INVALID_TYPE", f"value must be a list of {noun}s for {operator}", f"{path}.value")]
    elif operator == "between":
        if not (
            isinstance(value, list | tuple) and len(value) == 2 and all(_scalar_ok(kind, v) for v in value)
        ):
            return [
                error("INVALID_TYPE", f"value must be [low, high], each {noun}, for between", f"{path}.value")
            ]
        low, high = (_month_number(v) for v in value) if kind == "month" else value
        if low > high:
            return [error("OUT_OF_RANGE", "between needs low <= high", f"{path}.value")]
    elif not _scalar_ok(kind, value):
        return [error("INVALID_TYPE", f"value must be {noun} for {field}", f"{path}.value")]
    return []


def validate_conditions(
    conditions: object, logic: object, custom_logic: object, path: str, *, conditions_key: str = "conditions"
) -> list[ValidationResult]:
    """Issues with a conditions list and the way it combines; `path` is the object holding them."""
    if not isinstance(conditions, list | tuple):
        return [error("INVALID_TYPE", f"{conditions_key} must be an array", f"{path}.{conditions_key}")]
    results: list[ValidationResult] = []
    for index, condition in enumerate(conditions):
        results.extend(validate_condition(condition, f"{path}.{conditions_key}[{index}]"))
    if logic not in EVALUATION_LOGICS:
        results.append(
            error(
                "INVALID_CHOICE",
                f"evaluation_logic must be one of {', '.join(EVALUATION_LOGICS)}",
                f"{path}.evaluation_logic",
            )
        )
    elif logic == "custom":
        if not isinstance(custom_logic, str) or not custom_logic.strip():
            results.append(
                error(
                    "REQUIRED_FIELD_MISSING",
                    "custom_logic is required when evaluation_logic is custom",
                    f"{path}.custom_logic",
                    'e.g. "0 and (1 or not 2)"',
                )
            )
        else:
            try:
                _parse(custom_logic, len(conditions))
            except ValueError as exc:
                results.append(
                    error(
                        "INVALID_CUSTOM_LOGIC",
                        str(exc),
                        f"{path}.custom_logic",
                        "use condition indexes with and, or, not and parentheses",
                    )
                )
    elif not conditions:
        results.append(
            warning(
                "EMPTY_CONDITIONS",
                "no conditions: 'all' is always true and 'any' is always false",
                f"{path}.{conditions_key}",
            )
        )
    return results


def _condition_mask(condition: Mapping[str, Any], ctx: EffectContext) -> BoolArray:
    field, operator, value = condition["field"], condition["operator"], condition["value"]
    kind = CONDITION_FIELDS[field][0]
    grid: np.ndarray[Any, Any]
    if field == "contract_month":
        grid = ctx.month_index[None, :]
    elif field == "contract_year":
        grid = ctx.contract_year[None, :]
    elif field == "calendar_month":
        grid = ctx.calendar_month[None, :]
    elif field == "months_ahead":
        grid = ctx.months_ahead[None, :]
    elif field == "base_price":
        grid = ctx.base
    elif field == "curve_key":
        grid = np.asarray(ctx.curve_keys, dtype=object)[:, None]
    else:
        grid = np.asarray(ctx.tenor_types, dtype=object)[None, :]

    def convert(item: Any) -> Any:
        return _month_number(item) if kind == "month" else item

    mask: np.ndarray[Any, Any]
    if operator in ("in", "not_in"):
        mask = np.isin(grid, [convert(item) for item in value])
        if operator == "not_in":
            mask = ~mask
    elif operator == "between":
        low, high = (convert(item) for item in value)
        mask = (grid >= low) & (grid <= high)
    else:
        target = convert(value)
        mask = {
            "=": lambda: grid == target,
            "!=": lambda: grid != target,
            "<": lambda: grid < target,
            "<=": lambda: grid <= target,
            ">": lambda: grid > target,
            ">=": lambda: grid >= target,
        }[operator]()
    if field == "base_price":
        mask = mask & ~np.isnan(ctx.base)
    return np.broadcast_to(np.asarray(mask, dtype=bool), ctx.shape)


def evaluate_conditions(
    conditions: Sequence[Mapping[str, Any]], logic: str, custom_logic: str | None, ctx: EffectContext
) -> BoolArray:
    """Where the conditions hold, per curve and tenor (NaN base prices never satisfy a base_price test)."""
    masks = [_condition_mask(condition, ctx) for condition in conditions]
    if logic == "custom":
        return np.broadcast_to(_parse(custom_logic or "", len(masks)).evaluate(masks), ctx.shape)
    if logic == "any":
        return np.logical_or.reduce(masks) if masks else np.zeros(ctx.shape, dtype=bool)
    return np.logical_and.reduce(masks) if masks else np.ones(ctx.shape, dtype=bool)


# --- custom logic: a tiny boolean grammar over condition indexes -------------------------------------------
#   expr := term ("or" term)* ; term := factor ("and" factor)* ; factor := "not" factor | INDEX | "(" expr ")"

_TOKEN = re.compile(r"\s*(?:(\d+)|(and|or|not)\b|([()]))")


@dataclass(frozen=True)
class _Node:
    op: str  # "index", "not", "and", "or"
    index: int = -1
    children: tuple[_Node, ...] = ()

    def evaluate(self, masks: Sequence[BoolArray]) -> BoolArray:
        if self.op == "index":
            return masks[self.index]
        values = [child.evaluate(masks) for child in self.children]
        if self.op == "not":
            return ~values[0]
        return np.logical_and.reduce(values) if self.op == "and" else np.logical_or.reduce(values)


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ValueError(f"unexpected text at position {position}: {text[position:]!r}")
        tokens.append(match.group(1) or match.group(2) or match.group(3))
        position = match.end()
    return tokens


def _parse(text: str, n_conditions: int) -> _Node:
    tokens = _tokenize(text)
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        if position >= len(tokens):
            raise ValueError("expression ends early")
        position += 1
        return tokens[position - 1]

    def expr() -> _Node:
        terms = [term()]
        while peek() == "or":
            take()
            terms.append(term())
        return terms[0] if len(terms) == 1 else _Node("or", children=tuple(terms))

    def term() -> _Node:
        factors = [factor()]
        while peek() == "and":
            take()
            factors.append(factor())
        return factors[0] if len(factors) == 1 else _Node("and", children=tuple(factors))

    def factor() -> _Node:
        word = take()
        if word == "not":
            return _Node("not", children=(factor(),))
        if word == "(":
            inner = expr()
            if take() != ")":
                raise ValueError("missing closing parenthesis")
            return inner
        if word.isdigit():
            index = int(word)
            if index >= n_conditions:
                raise ValueError(f"condition {index} does not exist (there are {n_conditions})")
            return _Node("index", index=index)
        raise ValueError(f"unexpected {word!r}")

    tree = expr()
    if position != len(tokens):
        raise ValueError(f"unexpected {tokens[position]!r}")
    return tree
