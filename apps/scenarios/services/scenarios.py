"""Scenarios: create, update (every change bumps the version), delete (with their runs and output rows)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.services import audit_append
from apps.scenarios.models import Scenario, ScenarioAssumption, ScenarioRun
from apps.scenarios.outputs import scenario_outputs_delete
from apps.scenarios.services.inputs import (
    CurveSelection,
    assumptions_check,
    invalid,
    issue,
    scenario_field_issues,
)
from apps.scenarios.services.runs import scenario_run_cancel
from aurum.errors import ConflictError
from tenants.models import Tenant

NAME_TAKEN = "scenario-name-taken"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def scenario_unique_key(*, tenant: Tenant, name: str) -> str:
    """``{tenant}:{slug(name)}``: lowercase, every run of non-alphanumerics becomes ``-`` (spec 2.3)."""
    return f"{tenant.schema_name}:{_slug(name)}"


def _name_taken_error(name: str) -> ConflictError:
    return ConflictError(f"A scenario named '{name}' already exists.", slug=NAME_TAKEN)


def _assumptions_replace(scenario: Scenario, assumptions: Sequence[Mapping[str, Any]]) -> None:
    scenario.assumptions.all().delete()
    ScenarioAssumption.objects.bulk_create(
        [
            ScenarioAssumption(
                scenario=scenario,
                order=index,
                driver_type=node["driver_type"],
                name=str(node.get("name") or ""),
                payload=dict(node.get("payload") or {}),
                version=int(node.get("version") or 1),
            )
            for index, node in enumerate(assumptions)
        ]
    )


def _audited_fields(scenario: Scenario, *, assumptions: int) -> dict[str, Any]:
    return {
        "name": scenario.name,
        "description": scenario.description,
        "status": scenario.status,
        "version": scenario.version,
        "tags": list(scenario.tags),
        "parameters": dict(scenario.parameters),
        "curve_keys": len(scenario.curve_keys),
        "curve_filter": dict(scenario.curve_filter),
        "base_asof": scenario.base_asof,
        "assumptions": assumptions,
    }


def _name_taken(name: str, exclude: Scenario | None = None) -> bool:
    others = Scenario.objects.filter(name__iexact=name)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    return others.exists()


def scenario_create(
    *,
    tenant: Tenant,
    name: str,
    actor: User | None,
    description: str = "",
    assumptions: Sequence[Mapping[str, Any]] = (),
    parameters: Mapping[str, Any] | None = None,
    tags: Sequence[str] = (),
    selection: CurveSelection | None = None,
) -> Scenario:
    """A new scenario (status created). Raises InvalidInputError (driver and field issues) or ConflictError
    (a scenario of that name, ignoring case, exists)."""
    selection = selection or CurveSelection()
    issues = scenario_field_issues(name=name, assumptions=assumptions, tags=tags, selection=selection)
    if issues:
        raise invalid(issues)
    assumptions_check(assumptions)
    if _name_taken(name):
        raise _name_taken_error(name)
    try:
        with transaction.atomic():
            scenario = Scenario.objects.create(
                name=name,
                description=description,
                parameters=dict(parameters or {}),
                tags=list(tags),
                unique_key=scenario_unique_key(tenant=tenant, name=name),
                curve_keys=list(selection.curve_keys),
                curve_filter=dict(selection.curve_filter),
                base_asof=selection.base_asof,
                created_by=actor,
            )
            _assumptions_replace(scenario, assumptions)
            audit_append(
                action="scenario.create",
                resource_type="scenario",
                resource_id=scenario.pk,
                changes=_audited_fields(scenario, assumptions=len(assumptions)),
            )
    except IntegrityError as exc:  # a concurrent create of the same name
        raise _name_taken_error(name) from exc
    return scenario


_UNSET: Any = object()


def scenario_update(
    *,
    scenario: Scenario,
    tenant: Tenant,
    name: str = _UNSET,
    description: str = _UNSET,
    status: str = _UNSET,
    assumptions: Sequence[Mapping[str, Any]] = _UNSET,
    parameters: Mapping[str, Any] = _UNSET,
    tags: Sequence[str] = _UNSET,
    selection: CurveSelection = _UNSET,
) -> Scenario:
    """Change the given fields; any change bumps ``version`` (so later runs hash differently)."""
    new_name = scenario.name if name is _UNSET else name
    new_assumptions = (
        [a.as_node() for a in scenario.assumptions.all()] if assumptions is _UNSET else list(assumptions)
    )
    new_tags = scenario.tags if tags is _UNSET else list(tags)
    new_selection = (
        CurveSelection(tuple(scenario.curve_keys), dict(scenario.curve_filter), scenario.base_asof)
        if selection is _UNSET
        else selection
    )
    issues = scenario_field_issues(
        name=new_name, assumptions=new_assumptions, tags=new_tags, selection=new_selection
    )
    if status is not _UNSET and status not in Scenario.Status.values:
        issues.append(issue("INVALID_STATUS", f"status must be one of {Scenario.Status.values}", "status"))
    if issues:
        raise invalid(issues)
    if assumptions is not _UNSET:
        assumptions_check(new_assumptions)
    if _name_taken(new_name, exclude=scenario):
        raise _name_taken_error(new_name)
    with transaction.atomic():
        scenario.name = new_name
        scenario.unique_key = scenario_unique_key(tenant=tenant, name=new_name)
        if description is not _UNSET:
            scenario.description = description
        if status is not _UNSET:
            scenario.status = status
            scenario.archived_at = timezone.now() if status == Scenario.Status.ARCHIVED else None
        if parameters is not _UNSET:
            scenario.parameters = dict(parameters)
        scenario.tags = new_tags
        scenario.curve_keys = list(new_selection.curve_keys)
        scenario.curve_filter = dict(new_selection.curve_filter)
        scenario.base_asof = new_selection.base_asof
        scenario.version += 1
        scenario.save()
        if assumptions is not _UNSET:
            _assumptions_replace(scenario, new_assumptions)
        given = {
            "name": name,
            "description": description,
            "status": status,
            "parameters": parameters,
            "tags": tags,
            "selection": selection,
            "assumptions": assumptions,
        }
        audit_append(
            action="scenario.update",
            resource_type="scenario",
            resource_id=scenario.pk,
            changes={
                "fields": sorted(field for field, value in given.items() if value is not _UNSET),
                **_audited_fields(scenario, assumptions=len(new_assumptions)),
            },
        )
    return scenario


def scenario_delete(*, scenario: Scenario, tenant: Tenant) -> None:
    """Delete a scenario, its runs (unfinished ones are cancelled first) and its output rows."""
    scenario_id = str(scenario.pk)
    for run in scenario.runs.exclude(status__in=ScenarioRun.FINISHED):
        scenario_run_cancel(run=run, tenant=tenant)
    with transaction.atomic():
        audit_append(
            action="scenario.delete",
            resource_type="scenario",
            resource_id=scenario_id,
            changes={"name": scenario.name},
        )
        scenario.delete()
        transaction.on_commit(lambda: scenario_outputs_delete(tenant.schema_name, scenario_id))
