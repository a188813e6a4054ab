"""Input serializers and output presenters shared by the v1 and v2 scenario APIs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
from rest_framework import serializers

from apps.scenarios.engine.rows import METRICS
from apps.scenarios.models import Scenario, ScenarioRun
from apps.scenarios.services.inputs import CurveSelection, RunOptions, validation_report
from aurum.api.arrow import arrow_csv
from aurum.api.idempotency import KEY_RE
from tenants.models import Tenant

IDEMPOTENCY_KEY_PATTERN = KEY_RE.pattern


class ScenarioInput(serializers.Serializer):
    tenant_id = serializers.CharField(required=False, help_text="optional; must be the caller's tenant")
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True, allow_null=True, default="")
    assumptions = serializers.ListField(child=serializers.DictField(), required=False, default=list)
    parameters = serializers.DictField(required=False, default=dict)
    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False, default=list)
    curve_keys = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        help_text="the curves to move (or parameters.curve_keys for v1 clients)",
    )
    curve_filter = serializers.DictField(
        child=serializers.CharField(max_length=200),
        required=False,
        help_text="dimension filter instead of keys: asset_class, iso, region, location, market, product, "
        "block, tenor_type",
    )
    base_asof = serializers.DateField(
        required=False, allow_null=True, help_text="base curves' as-of; absent or null: the latest"
    )


class ScenarioUpdateInput(ScenarioInput):
    name = serializers.CharField(max_length=255, required=False)
    status = serializers.ChoiceField(choices=Scenario.Status.choices, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    assumptions = serializers.ListField(child=serializers.DictField(), required=False)
    parameters = serializers.DictField(required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False)


def check_tenant_id(data: Mapping[str, Any], tenant: Tenant) -> None:
    """v1 bodies carry tenant_id; the tenant comes from the credential, and another tenant's is refused."""
    given = data.get("tenant_id")
    if given is not None and given not in (tenant.schema_name, str(tenant.pk)):
        raise serializers.ValidationError({"tenant_id": "must be the authenticated tenant"})


def selection_from(data: Mapping[str, Any], current: CurveSelection | None = None) -> CurveSelection | None:
    """The curve selection of a create/update body (top-level fields, else the v1 ``parameters`` keys)."""
    parameters = data.get("parameters") or {}
    names = ("curve_keys", "curve_filter", "base_asof")
    if not any(name in data for name in names) and not any(name in parameters for name in names):
        return current
    base = current or CurveSelection()

    def pick(name: str, fallback: Any) -> Any:
        if name in data:
            return data[name]
        return parameters.get(name, fallback)

    raw_asof = pick("base_asof", base.base_asof)
    if isinstance(raw_asof, str):
        try:
            raw_asof = date.fromisoformat(raw_asof)
        except ValueError as exc:
            raise serializers.ValidationError({"base_asof": "must be YYYY-MM-DD"}) from exc
    return CurveSelection(
        curve_keys=tuple(pick("curve_keys", base.curve_keys) or ()),
        curve_filter=dict(pick("curve_filter", base.curve_filter) or {}),
        base_asof=raw_asof,
    )


class RunOptionsInput(serializers.Serializer):
    code_version = serializers.CharField(max_length=40, required=False, allow_null=True)
    seed = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=2**63 - 1)
    priority = serializers.ChoiceField(choices=ScenarioRun.Priority.values, default="normal")
    timeout_minutes = serializers.IntegerField(min_value=1, max_value=1440, default=60)
    max_memory_mb = serializers.IntegerField(min_value=256, max_value=16384, default=1024)
    environment = serializers.DictField(child=serializers.CharField(), required=False, default=dict)
    parameters = serializers.DictField(
        required=False, default=dict, help_text="n_paths (1-100000, default 1000), metrics"
    )
    max_retries = serializers.IntegerField(min_value=0, max_value=10, default=3)
    idempotency_key = serializers.RegexField(IDEMPOTENCY_KEY_PATTERN, required=False, allow_null=True)

    def options(self, idempotency_key: str | None = None) -> RunOptions:
        return options_from(self.validated_data, idempotency_key)


def options_from(data: Mapping[str, Any], idempotency_key: str | None = None) -> RunOptions:
    return RunOptions(
        priority=data.get("priority", "normal"),
        seed=data.get("seed"),
        code_version=data.get("code_version"),
        timeout_minutes=data.get("timeout_minutes", 60),
        max_retries=data.get("max_retries", 3),
        max_memory_mb=data.get("max_memory_mb", 1024),
        parameters=data.get("parameters") or {},
        environment=data.get("environment") or {},
        idempotency_key=idempotency_key or data.get("idempotency_key"),
    )


class OutputFiltersInput(serializers.Serializer):
    metric = serializers.ChoiceField(choices=list(METRICS), required=False)
    tenor_type = serializers.CharField(max_length=16, required=False)
    curve_key = serializers.CharField(max_length=200, required=False)


class BulkRunsInput(serializers.Serializer):
    runs = serializers.ListField(child=RunOptionsInput(), min_length=1, max_length=100)
    idempotency_key = serializers.RegexField(IDEMPOTENCY_KEY_PATTERN, required=False, allow_null=True)


# --- presenters ---------------------------------------------------------------------------------------------


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def assumptions_out(scenario: Scenario) -> list[dict[str, Any]]:
    return [
        {"driver_type": a.driver_type, "payload": a.payload, "version": a.version}
        | ({"name": a.name} if a.name else {})
        for a in scenario.assumptions.all()
    ]


def scenario_v1(scenario: Scenario, tenant: Tenant) -> dict[str, Any]:
    """``ScenarioData`` of the v1 contract; the curve selection is in ``metadata``."""
    return {
        "id": str(scenario.pk),
        "tenant_id": tenant.schema_name,
        "name": scenario.name,
        "description": scenario.description or None,
        "status": scenario.status,
        "unique_key": scenario.unique_key,
        "assumptions": assumptions_out(scenario),
        "parameters": scenario.parameters,
        "tags": scenario.tags,
        "created_at": _iso(scenario.created_at),
        "updated_at": _iso(scenario.updated_at),
        "created_by": scenario.created_by.email if scenario.created_by else None,
        "version": scenario.version,
        "metadata": {
            "curve_keys": scenario.curve_keys,
            "curve_filter": scenario.curve_filter,
            "base_asof": _iso(scenario.base_asof),
        },
    }


def scenario_v2(scenario: Scenario, tenant: Tenant) -> dict[str, Any]:
    body = scenario_v1(scenario, tenant)
    metadata = body.pop("metadata")
    body.update(metadata)
    body["archived_at"] = _iso(scenario.archived_at)
    body["validation"] = validation_report([a.as_node() for a in scenario.assumptions.all()])
    return body


def run_v1(run: ScenarioRun) -> dict[str, Any]:
    """``ScenarioRunData`` of the v1 contract (status ``timed_out`` is the contract's ``timeout``)."""
    return {
        "id": str(run.pk),
        "scenario_id": str(run.scenario_id),
        "status": "timeout" if run.status == ScenarioRun.Status.TIMED_OUT else run.status,
        "priority": run.priority,
        "run_key": f"{run.scenario_id}:{run.input_hash}",
        "input_hash": run.input_hash,
        "started_at": _iso(run.started_at),
        "completed_at": _iso(run.completed_at),
        "duration_seconds": run.duration_seconds,
        "error_message": run.error_message or None,
        "retry_count": run.retry_count,
        "max_retries": run.max_retries,
        "progress_percent": run.progress_percent,
        "parameters": run.options.get("parameters", {}),
        "environment": run.options.get("environment", {}),
        "created_at": _iso(run.created_at),
        "queued_at": _iso(run.queued_at),
        "cancelled_at": _iso(run.cancelled_at),
    }


def run_v1_meta(run: ScenarioRun) -> dict[str, Any]:
    """What a v1 answer about one run adds to its ``meta`` (the contract's ScenarioRunData allows no other
    fields; its response's ``meta`` is a free object): why the run failed, as a code (``ADMIN_FAILED``…)."""
    return {"error_code": run.error_code or None}


def run_v2(run: ScenarioRun) -> dict[str, Any]:
    body = run_v1(run)
    body.update(
        {
            "status": run.status,
            "idempotency_key": run.idempotency_key or None,
            "seed": run.seed,
            "code_version": run.code_version,
            "timeout_minutes": run.timeout_minutes,
            "scenario_version": run.options.get("inputs", {}).get("scenario_version"),
            "base_asof_requested": _iso(run.base_asof_requested),
            "base_asof": _iso(run.base_asof),
            "curve_snapshot_id": run.curve_snapshot_id,
            "output_snapshot_id": run.output_snapshot_id,
            "output_rows": run.output_rows,
            "output_hash": run.output_hash or None,
            "error_code": run.error_code or None,
        }
    )
    return body


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def rows_out(table: pa.Table) -> list[dict[str, Any]]:
    """Arrow rows as JSON-ready dicts (dates as ISO strings)."""
    return [{key: _cell(value) for key, value in row.items()} for row in table.to_pylist()]


def output_points_v1(table: pa.Table, run: ScenarioRun) -> list[dict[str, Any]]:
    """v1 ``ScenarioOutputPoint``s: the curve-shaped row as a point at its contract month, with the curve,
    tenor, band and run as string tags."""
    points = []
    for row in table.to_pylist():
        month: date = row["contract_month"]
        points.append(
            {
                "timestamp": datetime(month.year, month.month, month.day, tzinfo=UTC).isoformat(),
                "metric_name": row["metric"],
                "value": row["value"],
                "unit": run.curve_units.get(row["curve_key"], ""),
                "tags": {
                    "curve_key": row["curve_key"],
                    "tenor_label": row["tenor_label"],
                    "tenor_type": row["tenor_type"],
                    "contract_month": month.isoformat(),
                    "asof_date": row["asof_date"].isoformat(),
                    "run_id": row["run_id"],
                    "band_lower": repr(row["band_lower"]),
                    "band_upper": repr(row["band_upper"]),
                },
            }
        )
    return points


CSV_COLUMNS = (
    "asof_date",
    "scenario_id",
    "run_id",
    "curve_key",
    "tenor_type",
    "contract_month",
    "tenor_label",
    "metric",
    "value",
    "band_lower",
    "band_upper",
    "version_hash",
)


def outputs_csv(table: pa.Table, columns: Iterable[str] = CSV_COLUMNS) -> bytes:
    """The output rows as CSV (pyarrow's writer; an empty table gives the header alone)."""
    return arrow_csv(table, list(columns))
