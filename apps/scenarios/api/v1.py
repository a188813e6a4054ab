"""v1 scenario endpoints: the original contract (``openapi-spec-v1.yaml``), ``{meta, data}`` envelope, signed
offset cursors, run → 202. Outputs are those of the scenario's latest succeeded run (or ``run_id``)."""

from __future__ import annotations

import time
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import User
from apps.scenarios.api.serializers import (
    BulkRunsInput,
    OutputFiltersInput,
    RunOptionsInput,
    ScenarioInput,
    check_tenant_id,
    guarded,
    header_idempotency_key,
    options_from,
    output_points_v1,
    outputs_csv,
    run_v1,
    scenario_v1,
    selection_from,
)
from apps.scenarios.engine.rows import METRICS, SCENARIO_OUTPUT_SCHEMA
from apps.scenarios.models import ScenarioRun
from apps.scenarios.selectors import (
    OutputFilters,
    run_get,
    run_list,
    run_output_table,
    run_outputs_page,
    scenario_get,
    scenario_latest_succeeded_run,
    scenario_list,
)
from apps.scenarios.services import (
    scenario_create,
    scenario_delete,
    scenario_run_cancel,
    scenario_run_submit,
    scenario_runs_submit_bulk,
)
from aurum.api.conditional import cached_response
from aurum.api.cursors import cursor_decode, cursor_encode, v1_paging_params
from aurum.api.envelope import envelope
from aurum.api.permissions import request_membership
from aurum.api.views import PermissionByMethodView
from tenants.models import Tenant

OUTPUTS_TTL = 30  # seconds: a newer run changes "the latest outputs"


def _tenant(request: Request) -> Tenant:
    return request_membership(request).tenant


def _actor(request: Request) -> User | None:
    return request.user if isinstance(request.user, User) else None


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


@extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT})
class _ByMethod(PermissionByMethodView):
    """Scenario views: their responses are JSON objects in the OpenAPI document (the views build them by
    hand; each documents itself with a description and examples)."""

    default_need = "scenarios:read"


class _Page(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=200, default=50)


def _paged(
    request: Request, items: QuerySet[Any], filters: dict[str, Any], max_limit: int = 200
) -> tuple[list[Any], dict[str, Any]]:
    """A page of ``items`` by the v1 rules: limit, offset (deprecated) or a signed cursor bound to filters."""
    query = _Page(data=request.query_params)
    query.is_valid(raise_exception=True)
    paging = v1_paging_params(request.query_params)
    limit = min(query.validated_data["limit"], max_limit)
    offset = paging.offset or 0
    if paging.cursor:
        decoded = cursor_decode(paging.cursor, filters=filters)
        offset = decoded.offset
        if paging.direction == "prev":
            offset = max(decoded.offset - limit, 0)
    rows = list(items[offset : offset + limit + 1])
    more = len(rows) > limit
    meta: dict[str, Any] = {
        "limit": limit,
        "offset": offset,
        "count": min(len(rows), limit),
        "has_more": more,
    }
    if more:
        meta["next_cursor"] = cursor_encode(offset=offset + limit, limit=limit, filters=filters)
    if offset > 0:
        meta["prev_cursor"] = cursor_encode(offset=offset, limit=limit, filters=filters)
    return rows[:limit], meta


class ScenarioListQuery(serializers.Serializer):
    status = serializers.RegexField(r"^[A-Za-z_]+$", required=False)
    name = serializers.CharField(max_length=255, required=False)
    tag = serializers.CharField(max_length=100, required=False)
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)


class ScenarioListApi(_ByMethod):
    """``GET/POST /api/v1/scenarios``."""

    needs = {"GET": "scenarios:read", "POST": "scenarios:write"}

    def get(self, request: Request) -> Response:
        started = time.perf_counter()
        query = ScenarioListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = dict(query.validated_data)
        rows, meta = _paged(request, scenario_list(**filters), filters)
        tenant = _tenant(request)
        body = envelope([scenario_v1(s, tenant) for s in rows], query_time_ms=_ms(started))
        body["meta"].update(meta)
        return Response(body)

    def post(self, request: Request) -> Response:
        started = time.perf_counter()
        data = ScenarioInput(data=request.data)
        data.is_valid(raise_exception=True)
        tenant = _tenant(request)
        check_tenant_id(data.validated_data, tenant)

        def create() -> Response:
            values = data.validated_data
            scenario = scenario_create(
                tenant=tenant,
                name=values["name"],
                actor=_actor(request),
                description=values.get("description") or "",
                assumptions=values["assumptions"],
                parameters=values["parameters"],
                tags=values["tags"],
                selection=selection_from(values),
            )
            scenario = scenario_get(scenario_id=str(scenario.pk))
            body = envelope(scenario_v1(scenario, tenant), query_time_ms=_ms(started))
            return Response(body, status=status.HTTP_201_CREATED)

        return guarded(request, create)


class ScenarioDetailApi(_ByMethod):
    """``GET/DELETE /api/v1/scenarios/{id}``."""

    needs = {"GET": "scenarios:read", "DELETE": "scenarios:delete"}

    def get(self, request: Request, scenario_id: str) -> Response:
        started = time.perf_counter()
        scenario = scenario_get(scenario_id=scenario_id)
        body = envelope(scenario_v1(scenario, _tenant(request)), query_time_ms=_ms(started))
        return cached_response(request, body, ttl=0)

    def delete(self, request: Request, scenario_id: str) -> Response:
        scenario_delete(scenario=scenario_get(scenario_id=scenario_id), tenant=_tenant(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ScenarioRunApi(_ByMethod):
    """``POST /api/v1/scenarios/{id}/run`` → 202 (the existing run for the same inputs or key)."""

    needs = {"POST": "scenarios:run"}

    def post(self, request: Request, scenario_id: str) -> Response:
        started = time.perf_counter()
        scenario = scenario_get(scenario_id=scenario_id)
        data = RunOptionsInput(data=request.data or {})
        data.is_valid(raise_exception=True)
        key = header_idempotency_key(request)

        def submit() -> Response:
            submitted = scenario_run_submit(
                tenant=_tenant(request), scenario=scenario, options=data.options(key), actor=_actor(request)
            )
            body = envelope(run_v1(submitted.run), query_time_ms=_ms(started))
            return Response(body, status=status.HTTP_202_ACCEPTED)

        return guarded(request, submit)


class RunListQuery(serializers.Serializer):
    state = serializers.RegexField(
        r"^(?i:queued|running|succeeded|failed|cancelled|timeout|timed_out)$", required=False
    )
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)


class ScenarioRunListApi(_ByMethod):
    """``GET /api/v1/scenarios/{id}/runs``."""

    def get(self, request: Request, scenario_id: str) -> Response:
        started = time.perf_counter()
        scenario = scenario_get(scenario_id=scenario_id)
        query = RunListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = dict(query.validated_data)
        runs = run_list(scenario=scenario, status=filters.get("state"))
        if after := filters.get("created_after"):
            runs = runs.filter(queued_at__gte=after)
        if before := filters.get("created_before"):
            runs = runs.filter(queued_at__lte=before)
        rows, meta = _paged(request, runs, {"scenario_id": scenario_id, **filters})
        body = envelope([run_v1(run) for run in rows], query_time_ms=_ms(started))
        body["meta"].update(meta)
        return Response(body)


class ScenarioRunDetailApi(_ByMethod):
    """``GET /api/v1/scenarios/{id}/runs/{run_id}``."""

    def get(self, request: Request, scenario_id: str, run_id: str) -> Response:
        started = time.perf_counter()
        run = run_get(run_id=run_id, scenario=scenario_get(scenario_id=scenario_id))
        return cached_response(request, envelope(run_v1(run), query_time_ms=_ms(started)), ttl=0)


class RunCancelApi(_ByMethod):
    """``POST /api/v1/scenarios/runs/{run_id}/cancel``: idempotent; a finished run is returned as it is."""

    needs = {"POST": "scenarios:run"}

    def post(self, request: Request, run_id: str) -> Response:
        started = time.perf_counter()
        run = scenario_run_cancel(run=run_get(run_id=run_id), tenant=_tenant(request))
        return Response(envelope(run_v1(run), query_time_ms=_ms(started)))


class ScenarioBulkRunsApi(_ByMethod):
    """``POST /api/v1/scenarios/{id}/runs:bulk`` → 202 with ``data``, ``duplicates`` and ``meta`` counts."""

    needs = {"POST": "scenarios:run"}

    def post(self, request: Request, scenario_id: str) -> Response:
        started = time.perf_counter()
        scenario = scenario_get(scenario_id=scenario_id)
        data = BulkRunsInput(data=request.data)
        data.is_valid(raise_exception=True)

        def submit() -> Response:
            result = scenario_runs_submit_bulk(
                tenant=_tenant(request),
                scenario=scenario,
                runs=[options_from(item) for item in data.validated_data["runs"]],
                actor=_actor(request),
                idempotency_key=data.validated_data.get("idempotency_key") or header_idempotency_key(request),
            )
            body = envelope(result.data, query_time_ms=_ms(started))
            body["duplicates"] = result.duplicates
            body["meta"].update(result.meta)
            return Response(body, status=status.HTTP_202_ACCEPTED)

        return guarded(request, submit)


class OutputsQuery(OutputFiltersInput):
    limit = serializers.IntegerField(min_value=1, max_value=500, default=200)
    format = serializers.ChoiceField(choices=["json", "csv"], default="json")
    run_id = serializers.UUIDField(
        required=False, help_text="a run of the scenario; default its latest succeeded"
    )
    tenant_id = serializers.CharField(required=False)


def _outputs_run(scenario_id: str, run_id: Any) -> ScenarioRun | None:
    scenario = scenario_get(scenario_id=scenario_id)
    if run_id is not None:
        return run_get(run_id=str(run_id), scenario=scenario)
    return scenario_latest_succeeded_run(scenario=scenario)


class ScenarioOutputsApi(_ByMethod):
    """``GET /api/v1/scenarios/{id}/outputs``: the latest succeeded run's rows as v1 points, paged by signed
    cursors bound to the filters; ``format=csv`` gives the curve-shaped rows; ETag/304."""

    def get(self, request: Request, scenario_id: str) -> Response | HttpResponse:
        started = time.perf_counter()
        query = OutputsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        tenant = _tenant(request)
        check_tenant_id(values, tenant)
        run = _outputs_run(scenario_id, values.get("run_id"))
        filters = OutputFilters(values.get("metric"), values.get("tenor_type"), values.get("curve_key"))
        bound = {
            "scenario_id": scenario_id,
            "run_id": str(run.pk) if run else None,
            **{k: v for k, v in filters.__dict__.items() if v is not None},
        }
        paging = v1_paging_params(request.query_params)
        limit = values["limit"]
        offset = paging.offset or 0
        if paging.cursor:
            decoded = cursor_decode(paging.cursor, filters=bound)
            offset = decoded.offset if paging.direction == "next" else max(decoded.offset - limit, 0)
        if run is None:
            table = None
            rows_count = 0
        else:
            table = run_outputs_page(tenant=tenant, run=run, filters=filters, limit=limit + 1, offset=offset)
            rows_count = table.num_rows
        more = rows_count > limit
        next_cursor = cursor_encode(offset=offset + limit, limit=limit, filters=bound) if more else None
        prev_cursor = cursor_encode(offset=offset, limit=limit, filters=bound) if offset > 0 else None
        page = table.slice(0, limit) if table is not None else None
        if values["format"] == "csv":
            text = outputs_csv(page if page is not None else SCENARIO_OUTPUT_SCHEMA.empty_table())
            response = HttpResponse(text, content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="scenario_outputs.csv"'
            if next_cursor:
                response["X-Next-Cursor"] = next_cursor
            if prev_cursor:
                response["X-Prev-Cursor"] = prev_cursor
            return response
        data = output_points_v1(page, run) if page is not None and run is not None else []
        body = envelope(
            data,
            query_time_ms=_ms(started),
            next_cursor=next_cursor,
            prev_cursor=prev_cursor,
            has_more=more,
            count=len(data),
            limit=limit,
        )
        return cached_response(request, body, ttl=OUTPUTS_TTL)


class MetricsLatestQuery(serializers.Serializer):
    metric = serializers.ChoiceField(choices=list(METRICS), default="mid")
    tenant_id = serializers.CharField(required=False)


class ScenarioMetricsLatestApi(_ByMethod):
    """``GET /api/v1/scenarios/{id}/metrics/latest``: one ``ScenarioMetricLatest`` (the contract's shape):
    the metric's mean over the latest succeeded run's rows, its trend against the previous succeeded run."""

    def get(self, request: Request, scenario_id: str) -> Response:
        started = time.perf_counter()
        query = MetricsLatestQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        tenant = _tenant(request)
        check_tenant_id(query.validated_data, tenant)
        metric = query.validated_data["metric"]
        scenario = scenario_get(scenario_id=scenario_id)
        succeeded = list(run_list(scenario=scenario, status="succeeded").order_by("-completed_at", "-id")[:2])
        if not succeeded:
            from django.http import Http404

            raise Http404("The scenario has no succeeded run yet.")
        means = [_mean(tenant, run, metric) for run in succeeded]
        latest = succeeded[0]
        change = None
        trend = None
        if len(means) == 2 and means[1] is not None and means[0] is not None:
            change = (means[0] - means[1]) / abs(means[1]) * 100 if means[1] else None
            trend = "up" if means[0] > means[1] else "down" if means[0] < means[1] else "flat"
        units = sorted(set(latest.curve_units.values()))
        data = {
            "scenario_id": str(scenario.pk),
            "metric_name": metric,
            "value": means[0] if means[0] is not None else 0.0,
            "unit": units[0] if len(units) == 1 else ("mixed" if units else ""),
            "timestamp": latest.completed_at.isoformat() if latest.completed_at else None,
            "trend": trend,
            "change_percent": change,
        }
        body = envelope(data, query_time_ms=_ms(started))
        body["meta"].update({"run_id": str(latest.pk), "rows": latest.output_rows})
        return cached_response(request, body, ttl=OUTPUTS_TTL)


def _mean(tenant: Tenant, run: ScenarioRun, metric: str) -> float | None:
    import pyarrow.compute as pc

    table = run_output_table(tenant=tenant, run=run, metric=metric)
    if table.num_rows == 0:
        return None
    value = pc.mean(table.column("value")).as_py()
    return float(value) if value is not None else None
