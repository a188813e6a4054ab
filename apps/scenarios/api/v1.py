"""v1 scenario endpoints: the original contract (``openapi-spec-v1.yaml``), ``{meta, data}`` envelope, signed
offset cursors, run → 202. Outputs are those of the scenario's latest succeeded run (or ``run_id``)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.scenarios.api.base import OUTPUTS_TTL, ScenarioView
from apps.scenarios.api.schema import (
    V1_BULK_RUNS,
    V1_METRIC_LATEST,
    V1_OUTPUTS,
    V1_RUN,
    V1_RUNS,
    V1_SCENARIO,
    V1_SCENARIOS,
)
from apps.scenarios.api.serializers import (
    BulkRunsInput,
    OutputFiltersInput,
    RunOptionsInput,
    ScenarioInput,
    check_tenant_id,
    options_from,
    output_points_v1,
    outputs_csv,
    run_v1,
    run_v1_meta,
    scenario_v1,
    selection_from,
)
from apps.scenarios.engine.rows import METRICS, SCENARIO_OUTPUT_SCHEMA
from apps.scenarios.models import ScenarioRun
from apps.scenarios.output_cache import scenario_outputs_read
from apps.scenarios.selectors import (
    OutputFilters,
    run_get,
    run_list,
    run_metric_mean,
    run_outputs_page,
    scenario_get,
    scenario_latest_succeeded_run,
    scenario_list,
    scenario_succeeded_runs,
)
from apps.scenarios.services.runs import scenario_run_cancel, scenario_run_submit, scenario_runs_submit_bulk
from apps.scenarios.services.scenarios import scenario_create, scenario_delete
from apps.usage.quotas import usage_credential
from aurum.api.conditional import cache_control, cached_response
from aurum.api.context import request_context
from aurum.api.envelope import envelope
from aurum.api.idempotency import idempotency_key
from aurum.api.openapi import IDEMPOTENCY_KEY, v1_page_parameters
from aurum.api.paging import page_slice, v1_page_meta, v1_page_request
from aurum.api.responses import csv_bytes_response, elapsed_ms, object_response, v1_list_response
from aurum.errors import NotFoundError

LIST_DEFAULT, LIST_MAX = 50, 200
OUTPUTS_DEFAULT, OUTPUTS_MAX = 200, 500


class ScenarioListQuery(serializers.Serializer):
    status = serializers.RegexField(r"^[A-Za-z_]+$", required=False)
    name = serializers.CharField(max_length=255, required=False)
    tag = serializers.CharField(max_length=100, required=False)
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)


class ScenarioListApi(ScenarioView):
    """``GET/POST /api/v1/scenarios``."""

    needs = {"GET": "scenarios:read", "POST": "scenarios:write"}

    @extend_schema(
        operation_id="v1_scenarios_list",
        parameters=[ScenarioListQuery, *v1_page_parameters(LIST_DEFAULT, LIST_MAX)],
        responses=V1_SCENARIOS,
        description="The tenant's scenarios, newest first.",
    )
    def get(self, request: Request) -> Response:
        query = ScenarioListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = dict(query.validated_data)
        page = v1_page_request(request, filters=filters, default=LIST_DEFAULT, maximum=LIST_MAX)
        rows, more = page_slice(scenario_list(**filters), page)
        tenant = request_context(request).tenant
        data = [scenario_v1(s, tenant) for s in rows]
        return v1_list_response(request, data, page=page, has_more=more, filters=filters)

    @extend_schema(
        request=ScenarioInput,
        responses={201: V1_SCENARIO},
        description="Create a scenario; tenant_id, when given, must be the caller's tenant.",
    )
    def post(self, request: Request) -> Response:
        data = ScenarioInput(data=request.data)
        data.is_valid(raise_exception=True)
        context = request_context(request)
        check_tenant_id(data.validated_data, context.tenant)
        values = data.validated_data
        scenario = scenario_create(
            tenant=context.tenant,
            name=values["name"],
            actor=context.user,
            description=values.get("description") or "",
            assumptions=values["assumptions"],
            parameters=values["parameters"],
            tags=values["tags"],
            selection=selection_from(values),
        )
        scenario = scenario_get(scenario_id=str(scenario.pk))
        return object_response(request, scenario_v1(scenario, context.tenant), status=status.HTTP_201_CREATED)


class ScenarioDetailApi(ScenarioView):
    """``GET/DELETE /api/v1/scenarios/{id}``."""

    needs = {"GET": "scenarios:read", "DELETE": "scenarios:delete"}

    @extend_schema(responses=V1_SCENARIO, description="One scenario; ETag/304.")
    def get(self, request: Request, scenario_id: str) -> Response:
        scenario = scenario_get(scenario_id=scenario_id)
        return object_response(request, scenario_v1(scenario, request_context(request).tenant))

    @extend_schema(
        responses={204: None},
        description="Delete the scenario, its runs (unfinished ones are cancelled) and outputs.",
    )
    def delete(self, request: Request, scenario_id: str) -> Response:
        tenant = request_context(request).tenant
        scenario_delete(scenario=scenario_get(scenario_id=scenario_id), tenant=tenant)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ScenarioRunApi(ScenarioView):
    """``POST /api/v1/scenarios/{id}/run`` → 202 (the existing run for the same inputs or key; 422 for a key
    used with other parameters, or a run over the budget)."""

    needs = {"POST": "scenarios:run"}

    @extend_schema(
        request=RunOptionsInput,
        parameters=[IDEMPOTENCY_KEY],
        responses={202: V1_RUN},
        description="Queue a run (the body may be empty); the same inputs or key answer the existing run.",
    )
    def post(self, request: Request, scenario_id: str) -> Response:
        scenario = scenario_get(scenario_id=scenario_id)
        data = RunOptionsInput(data=request.data or {})
        data.is_valid(raise_exception=True)
        context = request_context(request)
        submitted = scenario_run_submit(
            tenant=context.tenant,
            scenario=scenario,
            options=data.options(idempotency_key(request)),
            actor=context.user,
            credential=usage_credential(context),
        )
        return object_response(request, run_v1(submitted.run), status=status.HTTP_202_ACCEPTED)


class RunListQuery(serializers.Serializer):
    state = serializers.RegexField(
        r"^(?i:queued|running|succeeded|failed|cancelled|timeout|timed_out)$", required=False
    )
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)


class ScenarioRunListApi(ScenarioView):
    """``GET /api/v1/scenarios/{id}/runs``."""

    @extend_schema(
        operation_id="v1_scenarios_runs_list",
        parameters=[RunListQuery, *v1_page_parameters(LIST_DEFAULT, LIST_MAX)],
        responses=V1_RUNS,
        description="The scenario's runs, newest first.",
    )
    def get(self, request: Request, scenario_id: str) -> Response:
        scenario = scenario_get(scenario_id=scenario_id)
        query = RunListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        runs = run_list(
            scenario=scenario,
            status=values.get("state"),
            queued_after=values.get("created_after"),
            queued_before=values.get("created_before"),
        )
        filters = {"scenario_id": scenario_id, **values}
        page = v1_page_request(request, filters=filters, default=LIST_DEFAULT, maximum=LIST_MAX)
        rows, more = page_slice(runs, page)
        return v1_list_response(
            request, [run_v1(run) for run in rows], page=page, has_more=more, filters=filters
        )


class ScenarioRunDetailApi(ScenarioView):
    """``GET /api/v1/scenarios/{id}/runs/{run_id}``."""

    @extend_schema(responses=V1_RUN, description="One run of the scenario.")
    def get(self, request: Request, scenario_id: str, run_id: str) -> Response:
        run = run_get(run_id=run_id, scenario=scenario_get(scenario_id=scenario_id))
        return object_response(request, run_v1(run), meta=run_v1_meta(run))


class RunCancelApi(ScenarioView):
    """``POST /api/v1/scenarios/runs/{run_id}/cancel``: idempotent; a finished run is returned as it is."""

    needs = {"POST": "scenarios:run"}

    @extend_schema(request=None, responses=V1_RUN, description="Cancel a queued or running run; idempotent.")
    def post(self, request: Request, run_id: str) -> Response:
        run = scenario_run_cancel(run=run_get(run_id=run_id), tenant=request_context(request).tenant)
        return object_response(request, run_v1(run), meta=run_v1_meta(run))


class ScenarioBulkRunsApi(ScenarioView):
    """``POST /api/v1/scenarios/{id}/runs:bulk`` → 202 with ``data``, ``duplicates`` and ``meta`` counts."""

    needs = {"POST": "scenarios:run"}

    @extend_schema(
        operation_id="v1_scenarios_runs_bulk_create",
        request=BulkRunsInput,
        parameters=[IDEMPOTENCY_KEY],
        responses={202: V1_BULK_RUNS},
        description="Up to 100 runs in one call; the call's key (body or header) keys item i without one as "
        "{key}:{i}. Nothing is created when an item is invalid (400) or over the run budget (422).",
    )
    def post(self, request: Request, scenario_id: str) -> Response:
        scenario = scenario_get(scenario_id=scenario_id)
        data = BulkRunsInput(data=request.data)
        data.is_valid(raise_exception=True)
        context = request_context(request)
        result = scenario_runs_submit_bulk(
            tenant=context.tenant,
            scenario=scenario,
            runs=[options_from(item) for item in data.validated_data["runs"]],
            actor=context.user,
            credential=usage_credential(context),
            idempotency_key=data.validated_data.get("idempotency_key") or idempotency_key(request),
        )
        body = envelope(result.data, query_time_ms=elapsed_ms(request))
        body["duplicates"] = result.duplicates
        body["meta"].update(result.meta)
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Cache-Control": cache_control(0)})


class OutputsQuery(OutputFiltersInput):
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


class ScenarioOutputsApi(ScenarioView):
    """``GET /api/v1/scenarios/{id}/outputs``: the latest succeeded run's rows as v1 points, paged by signed
    cursors bound to the filters; ``format=csv`` gives the curve-shaped rows; ETag/304."""

    @extend_schema(
        parameters=[OutputsQuery, *v1_page_parameters(OUTPUTS_DEFAULT, OUTPUTS_MAX)],
        responses={(200, "application/json"): V1_OUTPUTS, (200, "text/csv"): OpenApiTypes.BINARY},
        description="The rows of the latest succeeded run (or run_id) as points; format=csv gives the "
        "curve-shaped rows, with the cursors in X-Next-Cursor / X-Prev-Cursor.",
    )
    def get(self, request: Request, scenario_id: str) -> Response | HttpResponse:
        query = OutputsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        tenant = request_context(request).tenant
        check_tenant_id(values, tenant)
        run = _outputs_run(scenario_id, values.get("run_id"))
        filters = OutputFilters(values.get("metric"), values.get("tenor_type"), values.get("curve_key"))
        bound = {
            "scenario_id": scenario_id,
            "run_id": str(run.pk) if run else None,
            **{k: v for k, v in filters.__dict__.items() if v is not None},
        }
        page = v1_page_request(request, filters=bound, default=OUTPUTS_DEFAULT, maximum=OUTPUTS_MAX)

        def outputs_table() -> tuple[pa.Table | None, bool]:
            table = (
                run_outputs_page(
                    tenant=tenant, run=run, filters=filters, limit=page.limit + 1, offset=page.offset
                )
                if run is not None
                else None
            )
            more = table is not None and table.num_rows > page.limit
            return (table.slice(0, page.limit) if table is not None else None), more

        if values["format"] != "csv":

            def points() -> tuple[list[dict[str, Any]], bool]:
                rows, more = outputs_table()
                return (output_points_v1(rows, run) if rows is not None and run is not None else []), more

            # Cached per scenario outputs version (an administrator's invalidation recomputes it).
            data, more = scenario_outputs_read(
                tenant=tenant,
                scenario_id=str(run.scenario_id) if run is not None else scenario_id,
                params={**bound, "limit": page.limit, "offset": page.offset},
                compute=points,
                ttl=OUTPUTS_TTL,
            )
            return v1_list_response(request, data, page=page, has_more=more, filters=bound, ttl=OUTPUTS_TTL)
        rows, more = outputs_table()
        meta = v1_page_meta(page, returned=0, has_more=more, filters=bound)
        return csv_bytes_response(
            request,
            data=outputs_csv(rows if rows is not None else SCENARIO_OUTPUT_SCHEMA.empty_table()),
            filename="scenario_outputs.csv",
            ttl=OUTPUTS_TTL,
            next_cursor=meta.get("next_cursor"),
            prev_cursor=meta.get("prev_cursor"),
        )


class MetricsLatestQuery(serializers.Serializer):
    metric = serializers.ChoiceField(choices=list(METRICS), default="mid")
    tenant_id = serializers.CharField(required=False)


class ScenarioMetricsLatestApi(ScenarioView):
    """``GET /api/v1/scenarios/{id}/metrics/latest``: one ``ScenarioMetricLatest`` (the contract's shape):
    the metric's mean over the latest succeeded run's rows, its trend against the previous succeeded run."""

    @extend_schema(
        parameters=[MetricsLatestQuery],
        responses=V1_METRIC_LATEST,
        description="The metric's mean over the latest succeeded run, and its trend against the run before; "
        "404 before the first succeeded run.",
    )
    def get(self, request: Request, scenario_id: str) -> Response:
        query = MetricsLatestQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        tenant = request_context(request).tenant
        check_tenant_id(query.validated_data, tenant)
        metric = query.validated_data["metric"]
        scenario = scenario_get(scenario_id=scenario_id)
        succeeded = scenario_succeeded_runs(scenario=scenario, limit=2)
        if not succeeded:
            raise NotFoundError("The scenario has no succeeded run yet.")
        means = [run_metric_mean(tenant=tenant, run=run, metric=metric) for run in succeeded]
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
        body = envelope(data, query_time_ms=elapsed_ms(request))
        body["meta"].update({"run_id": str(latest.pk), "rows": latest.output_rows})
        return cached_response(request, body, ttl=OUTPUTS_TTL)
