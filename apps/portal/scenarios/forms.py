"""The scenario form: the scenario's fields, its curves, and one fieldset per assumption built from that
driver type's payload schema (``apps.scenarios.drivers``: each ``FieldSpec`` becomes a labelled input).

The form is plain data read from and rendered to HTML; the scenario services validate. Their issues carry a
field path (``assumptions[2].payload.capacity_mw``) that ``attach_issues`` puts next to the input it names.
What cannot be parsed at all (a number that is not one, JSON that does not parse) is refused here, next to
its field, before any service is called.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.http import QueryDict

from apps.scenarios.drivers import driver_names, get_driver
from apps.scenarios.drivers.base import FieldSpec, Kind
from apps.scenarios.models import Scenario
from apps.scenarios.services.inputs import CurveSelection
from aurum.errors import Issue
from aurum.lakehouse.queries import DIMENSIONS

FILTER_DIMENSIONS: tuple[str, ...] = DIMENSIONS
MAX_FORM_ASSUMPTIONS = 100
_DIMENSION_LABELS = {"iso": "ISO", "asset_class": "Asset class", "tenor_type": "Tenor type"}
_ISSUE_PATH = re.compile(r"^assumptions\[(\d+)\](?:\.(payload|driver_type|name))?(?:\.([A-Za-z0-9_]+))?")


@dataclass
class Input:
    """One labelled input: ``kind`` is text, number, integer, date, select, checkbox or json."""

    name: str
    label: str
    kind: str
    value: str = ""
    help: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()
    errors: list[str] = field(default_factory=list)
    suggestions: list[tuple[str, int]] = field(default_factory=list)  # a <datalist>: (value, curves)

    @property
    def id(self) -> str:
        return f"id_{self.name}"

    @property
    def error(self) -> str:
        return " ".join(self.errors)


def _kind(spec: FieldSpec) -> str:
    if spec.choices:
        return "select"
    return {
        Kind.INTEGER: "integer",
        Kind.NUMBER: "number",
        Kind.BOOLEAN: "checkbox",
        Kind.DATE: "date",
        Kind.OBJECT: "json",
        Kind.ARRAY: "json",
    }.get(spec.kind, "text")


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, indent=1)
    return str(value)


@dataclass
class AssumptionForm:
    """One assumption: its driver type's inputs, named ``a-<index>-<field>``."""

    index: int
    driver_type: str
    name: Input
    inputs: list[Input]
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # warnings and info after saving

    @property
    def docs(self) -> str:
        driver = get_driver(self.driver_type)
        return driver.docs.strip().splitlines()[0].replace("`", "") if driver and driver.docs.strip() else ""

    @property
    def prefix(self) -> str:
        return f"a-{self.index}-"

    @classmethod
    def build(
        cls, index: int, driver_type: str, name: str = "", payload: Mapping[str, Any] | None = None
    ) -> AssumptionForm:
        driver = get_driver(driver_type)
        payload = payload or {}
        prefix = f"a-{index}-"
        inputs = [
            Input(
                name=f"{prefix}{spec.name}",
                label=spec.name.replace("_", " ").capitalize(),
                kind=_kind(spec),
                value=_shown(payload.get(spec.name)),
                help=spec.description + ("" if spec.default is None else f" (default {spec.default})"),
                required=spec.required,
                choices=spec.choices,
            )
            for spec in (driver.fields if driver else ())
        ]
        label = Input(f"{prefix}name", "Label", "text", name, "names this assumption in the attribution")
        return cls(index=index, driver_type=driver_type, name=label, inputs=inputs)

    def payload(self) -> dict[str, Any]:
        """The payload as typed values; a value that cannot be read adds an error to its input."""
        driver = get_driver(self.driver_type)
        specs = {spec.name: spec for spec in (driver.fields if driver else ())}
        payload: dict[str, Any] = {}
        for item in self.inputs:
            spec = specs[item.name.removeprefix(self.prefix)]
            raw = item.value.strip()
            if not raw:
                continue
            try:
                payload[spec.name] = _parse(spec, raw)
            except ValueError as exc:
                item.errors.append(str(exc))
        return payload

    def node(self) -> dict[str, Any]:
        node: dict[str, Any] = {"driver_type": self.driver_type, "payload": self.payload()}
        if self.name.value.strip():
            node["name"] = self.name.value.strip()
        return node

    def renumbered(self, index: int) -> AssumptionForm:
        """This assumption at another position (one before it was removed), keeping what was typed."""
        fresh = AssumptionForm.build(index, self.driver_type, self.name.value)
        for old, new in zip(self.inputs, fresh.inputs, strict=True):
            new.value = old.value
        fresh.errors = self.errors
        return fresh

    def input(self, field_name: str) -> Input | None:
        return next((item for item in self.inputs if item.name == f"{self.prefix}{field_name}"), None)


def _parse(spec: FieldSpec, raw: str) -> Any:
    if spec.kind is Kind.INTEGER:
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"Enter a whole number, not '{raw}'.") from None
    if spec.kind is Kind.NUMBER:
        try:
            number = float(raw)
        except ValueError:
            raise ValueError(f"Enter a number, not '{raw}'.") from None
        return int(number) if number.is_integer() and "." not in raw and "e" not in raw.lower() else number
    if spec.kind is Kind.BOOLEAN:
        return raw in ("on", "true", "1")
    if spec.kind in (Kind.OBJECT, Kind.ARRAY):
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"This is not valid JSON ({exc.msg} at character {exc.pos + 1}).") from None
    return raw


@dataclass
class ScenarioForm:
    name: Input
    description: Input
    tags: Input
    curve_keys: Input
    filters: list[Input]
    base_asof: Input
    status: Input | None
    assumptions: list[AssumptionForm]
    errors: list[str] = field(default_factory=list)

    @property
    def driver_types(self) -> tuple[str, ...]:
        return driver_names()

    @property
    def filtering(self) -> bool:
        """Whether the curves are chosen by filter (the filter inputs are shown open)."""
        return any(item.value.strip() or item.errors for item in self.filters)

    @property
    def has_errors(self) -> bool:
        inputs = [self.name, self.description, self.tags, self.curve_keys, self.base_asof, *self.filters]
        return bool(
            self.errors
            or any(item.errors for item in inputs)
            or any(a.errors or a.name.errors or any(i.errors for i in a.inputs) for a in self.assumptions)
        )

    @classmethod
    def blank(cls, *, editing: Scenario | None = None) -> ScenarioForm:
        scenario = editing
        assumptions = (
            [
                AssumptionForm.build(i, a.driver_type, a.name, a.payload)
                for i, a in enumerate(scenario.assumptions.all())
            ]
            if scenario
            else []
        )
        filters = dict(scenario.curve_filter) if scenario else {}
        return cls(
            name=Input("name", "Name", "text", scenario.name if scenario else "", required=True),
            description=Input(
                "description", "Description", "textarea", scenario.description if scenario else ""
            ),
            tags=Input(
                "tags", "Tags", "text", ", ".join(scenario.tags) if scenario else "", "comma-separated"
            ),
            curve_keys=Input(
                "curve_keys",
                "Curve keys",
                "textarea",
                "\n".join(scenario.curve_keys) if scenario else "",
                "one per line, from the curve catalog; or leave empty and filter below",
            ),
            filters=[
                Input(
                    f"filter-{dim}",
                    _DIMENSION_LABELS.get(dim, dim.capitalize()),
                    "text",
                    str(filters.get(dim, "")),
                )
                for dim in FILTER_DIMENSIONS
            ],
            base_asof=Input(
                "base_asof",
                "Base as-of",
                "date",
                scenario.base_asof.isoformat() if scenario and scenario.base_asof else "",
                "the curves' as-of the scenario moves; empty: the latest",
            ),
            status=Input("status", "Status", "select", scenario.status, choices=tuple(Scenario.Status.values))
            if scenario
            else None,
            assumptions=assumptions,
        )

    @classmethod
    def from_post(cls, data: QueryDict, *, editing: Scenario | None = None) -> ScenarioForm:
        """The form as submitted, with the add / remove assumption buttons applied."""
        form = cls.blank(editing=editing)
        for item in [form.name, form.description, form.tags, form.curve_keys, form.base_asof, *form.filters]:
            item.value = data.get(item.name, "")
        if form.status is not None:
            form.status.value = data.get("status", form.status.value)
        total = _int(data.get("a-total"), 0)
        assumptions: list[AssumptionForm] = []
        for index in range(min(total, MAX_FORM_ASSUMPTIONS)):
            driver_type = data.get(f"a-{index}-driver_type", "")
            if not driver_type:
                continue
            assumption = AssumptionForm.build(len(assumptions), driver_type, data.get(f"a-{index}-name", ""))
            for item in assumption.inputs:
                submitted_name = f"a-{index}-{item.name.removeprefix(assumption.prefix)}"
                item.value = data.get(submitted_name, "")
            if get_driver(driver_type) is None:
                assumption.errors.append(f"Unknown driver type '{driver_type}'; remove this assumption.")
            assumptions.append(assumption)
        remove = data.get("remove")
        if remove is not None and remove.isdigit() and int(remove) < len(assumptions):
            del assumptions[int(remove)]
            assumptions = [a.renumbered(i) for i, a in enumerate(assumptions)]
        add = (data.get("add") or data.get("add-type", "")) if "add" in data else ""
        if add:
            if get_driver(add) is None:
                form.errors.append(f"Unknown driver type '{add}'.")
            else:
                assumptions.append(AssumptionForm.build(len(assumptions), add))
        form.assumptions = assumptions
        return form

    # --- what the services take ------------------------------------------------------------------------

    def suggest(self, values: Mapping[str, list[tuple[str, int]]]) -> None:
        """Offer each filter input the values its dimension takes among the licensed curves."""
        for item in self.filters:
            item.suggestions = values.get(item.name.removeprefix("filter-"), [])

    def tag_list(self) -> list[str]:
        return [tag.strip() for tag in self.tags.value.split(",") if tag.strip()]

    def selection(self) -> CurveSelection:
        keys = tuple(key for key in re.split(r"[\s,]+", self.curve_keys.value) if key)
        filters = {
            item.name.removeprefix("filter-"): item.value.strip()
            for item in self.filters
            if item.value.strip()
        }
        asof: date | None = None
        if self.base_asof.value.strip():
            try:
                asof = date.fromisoformat(self.base_asof.value.strip())
            except ValueError:
                self.base_asof.errors.append("Enter a date as YYYY-MM-DD.")
        return CurveSelection(curve_keys=keys, curve_filter=filters, base_asof=asof)

    def nodes(self) -> list[dict[str, Any]]:
        return [assumption.node() for assumption in self.assumptions]

    # --- the services' answers, next to their fields ---------------------------------------------------

    def attach_issues(self, issues: Iterable[Issue]) -> None:
        """Put each issue next to the input its field path names; what names no input goes on top."""
        top = {
            "name": self.name,
            "description": self.description,
            "tags": self.tags,
            "curve_keys": self.curve_keys,
            "base_asof": self.base_asof,
        }
        for issue in issues:
            message = issue.message + (f" — {issue.suggestion}" if issue.suggestion else "")
            if issue.severity != "error":
                message = f"{issue.severity.capitalize()}: {message}"
            path = issue.field or ""
            match = _ISSUE_PATH.match(path)
            if match:
                self._attach_to_assumption(int(match.group(1)), match.group(2), match.group(3), message)
            elif path in top:
                top[path].errors.append(message)
            elif path.startswith("curve_filter"):
                self.curve_keys.errors.append(message)
            elif path == "status" and self.status is not None:
                self.status.errors.append(message)
            else:
                self.errors.append(f"{path}: {message}" if path else message)

    def _attach_to_assumption(
        self, index: int, part: str | None, field_name: str | None, message: str
    ) -> None:
        if index >= len(self.assumptions):
            self.errors.append(message)
            return
        assumption = self.assumptions[index]
        if part == "name":
            assumption.name.errors.append(message)
            return
        item = assumption.input(field_name) if part == "payload" and field_name else None
        if item is not None:
            item.errors.append(message)
        else:
            assumption.errors.append(message)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default
