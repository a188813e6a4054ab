"""v2 scenario endpoints: cursor-only lists with ``links`` and ``Link``, RFC 7807 errors, runs → 201,
``Idempotency-Key`` on POSTs, outputs as JSON, CSV or Parquet, and run comparison."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.scenarios.api.base import ScenarioView
from apps.scenarios.api.serializers import (
    OutputFiltersInput,
    RunOptionsInput,
    ScenarioInput,
    ScenarioUpdateInput,
    outputs_csv,
    rows_out,
    run_v2,
    scenario_v2,
    selection_from,
)
from apps.scenarios.engine.rows import METRICS
from apps.scenarios.selectors import (
    COMPARE_COLUMNS,
    OUTPUT_COLUMNS,
    OutputFilters,
    run_get,
    run_list,
    run_outputs_page,
    runs_compare,
    scenario_get,
    scenario_list,
)
from apps.scenarios.services.inputs import CurveSelection
from apps.scenarios.services.runs import scenario_run_cancel, scenario_run_submit
from apps.scenarios.services.scenarios import scenario_create, scenario_delete, scenario_update
from aurum.api.arrow import arrow_parquet
from aurum.api.conditional import cached_response
from aurum.api.context import request_context
from aurum.api.envelope import envelope
from aurum.api.idempotency import REPLAYED_HEADER, idempotency_key
from aurum.api.paging import page_slice, v2_page_request
from aurum.api.responses import elapsed_ms, file_response, object_response, v2_list_response

RUN_EXAMPLE = {
    "id": "5b0c3f3e-8f7e-4d55-9a39-0d4f1f2d7c11",
    "scenario_id": "0f8e7c9a-3b1d-4a8e-9c55-2d6f0e1b7a42",
    "status": "succeeded",
    "priority": "normal",
    "input_hash": "9f2c…",
    "seed": 7,
    "progress_percent": 100.0,
    "base_asof": "2025-09-12",
    "curve_snapshot_id": 3417290145570188419,
    "output_rows": 2904,
    "output_hash": "4be1…",
}
SCENARIO_EXAMPLE = {
    "name": "Carbon tax 2027",
    "description": "EUA-driven uplift from 2027, with price uncertainty",
    "curve_filter": {"iso": "EU", "product": "Fixed Prices - Mid"},
    "base_asof": "2025-09-12",
    "assumptions": [
        {"driver_type": "policy", "payload": {"policy_name": "carbon_tax", "start_year": 2027}},
        {
            "driver_type": "stochastic",
            "payload": {"distribution_type": "lognormal", "parameters": {"sigma": 0.25}},
        },
    ],
    "tags": ["carbon"],
}


class ScenariosApi(ScenarioView):
    """``/api/v2/scenarios``."""

    needs = {"GET": "scenarios:read", "POST": "scenarios:write"}

    @extend_schema(
        operation_id="scenarios_list",
        parameters=[
            OpenApiParameter("cursor", str, description="from links.next"),
            OpenApiParameter("limit", int, description="1-100, default 10"),
            OpenApiParameter("name_filter", str, description="case-insensitive substring of the name"),
            OpenApiParameter("status", str, description="created, active or archived"),
        ],
        description="The tenant's scenarios, newest first.",
        examples=[
            OpenApiExample(
                "Page", value={"data": [SCENARIO_EXAMPLE], "links": {"next": None}}, response_only=True
            )
        ],
    )
    def get(self, request: Request) -> Response:
        filters = {
            "name_filter": request.query_params.get("name_filter"),
            "status": request.query_params.get("status"),
        }
        page = v2_page_request(request, filters=filters)
        scenarios = scenario_list(name=filters["name_filter"], status=filters["status"])
        rows, more = page_slice(scenarios, page)
        tenant = request_context(request).tenant
        data = [scenario_v2(s, tenant) for s in rows]
        return v2_list_response(request, data, page=page, has_more=more, filters=filters)

    @extend_schema(
        request=ScenarioInput,
        responses={201: OpenApiTypes.OBJECT},
        description=(
            "Create a scenario: driver assumptions, the curves they move (curve_keys or curve_filter) and "
            "the base as-of (omit for the latest). Invalid assumptions are a 400 whose errors carry each "
            "validation result (field, code, message, severity, suggestion); a name taken (ignoring case) "
            "is a 409."
        ),
        examples=[OpenApiExample("Carbon tax", value=SCENARIO_EXAMPLE, request_only=True)],
    )
    def post(self, request: Request) -> Response:
        data = ScenarioInput(data=request.data)
        data.is_valid(raise_exception=True)
        context = request_context(request)
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
        return object_response(request, scenario_v2(scenario, context.tenant), status=status.HTTP_201_CREATED)


class ScenarioApi(ScenarioView):
    """``/api/v2/scenarios/{id}``."""

    needs = {"GET": "scenarios:read", "PATCH": "scenarios:write", "DELETE": "scenarios:delete"}

    @extend_schema(
        description="One scenario with its assumptions' validation report; ETag/304.",
        examples=[OpenApiExample("Scenario", value={"data": SCENARIO_EXAMPLE}, response_only=True)],
    )
    def get(self, request: Request, scenario_id: str) -> Response:
        scenario = scenario_get(scenario_id=scenario_id)
        return object_response(request, scenario_v2(scenario, request_context(request).tenant))

    @extend_schema(
        request=ScenarioUpdateInput,
        description="Change fields (status archived archives it); every change bumps version.",
        examples=[OpenApiExample("Archive", value={"status": "archived"}, request_only=True)],
    )
    def patch(self, request: Request, scenario_id: str) -> Response:
        scenario = scenario_get(scenario_id=scenario_id)
        data = ScenarioUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        tenant = request_context(request).tenant
        values = {
            k: v
            for k, v in data.validated_data.items()
            if k in ("name", "description", "status", "assumptions", "parameters", "tags")
        }
        current = CurveSelection(tuple(scenario.curve_keys), dict(scenario.curve_filter), scenario.base_asof)
        selection = selection_from(data.validated_data, current)
        if selection is not None and selection != current:
            values["selection"] = selection

        scenario_update(scenario=scenario, tenant=tenant, **values)
        fresh = scenario_get(scenario_id=scenario_id)
        return object_response(request, scenario_v2(fresh, tenant))

    @extend_schema(
        responses={204: None},
        description="Delete the scenario, its runs (unfinished ones are cancelled) and outputs.",
    )
    def delete(self, request: Request, scenario_id: str) -> Response:
        tenant = request_context(request).tenant
        scenario_delete(scenario=scenario_get(scenario_id=scenario_id), tenant=tenant)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ScenarioRunsApi(ScenarioView):
    """``/api/v2/scenarios/{id}/runs``."""

    needs = {"GET": "scenarios:read", "POST": "scenarios:run"}
    # The run keeps its key (decision 0010): a replay answers the run with 200, tenant-wide, without expiry.
    idempotency = "service"

    @extend_schema(
        parameters=[
            OpenApiParameter("status_filter", str, description="queued, running, succeeded, failed…"),
            OpenApiParameter("cursor", str),
            OpenApiParameter("limit", int),
        ],
        description="The scenario's runs, newest first.",
        examples=[OpenApiExample("Runs", value={"data": [RUN_EXAMPLE]}, response_only=True)],
    )
    def get(self, request: Request, scenario_id: str) -> Response:
        scenario = scenario_get(scenario_id=scenario_id)
        filters = {"scenario_id": scenario_id, "status_filter": request.query_params.get("status_filter")}
        page = v2_page_request(request, filters=filters)
        rows, more = page_slice(run_list(scenario=scenario, status=filters["status_filter"]), page)
        return v2_list_response(
            request, [run_v2(run) for run in rows], page=page, has_more=more, filters=filters
        )

    @extend_schema(
        request=RunOptionsInput,
        responses={201: OpenApiTypes.OBJECT, 200: OpenApiTypes.OBJECT},
        description=(
            "Queue a run → 201. The same inputs (input hash: assumptions, curves, base as-of and the curve "
            "snapshot, seed, parameters, code version) or the same Idempotency-Key with the same request "
            "return the existing run with 200 (with `Idempotent-Replayed: true` for the key); the key with "
            "other parameters is a 422 (idempotency-key-reused). parameters.n_paths sets the Monte Carlo "
            "paths (default 1000, at most 100,000). A run over the budget (drivers x curve-tenors x paths) "
            "is a 422 (run-budget-exceeded) naming the budget and the run's size; max_memory_mb caps the "
            "run's estimated memory (a run over it fails with error_code MEMORY_LIMIT_EXCEEDED)."
        ),
        examples=[
            OpenApiExample(
                "High priority, seeded",
                value={"priority": "high", "seed": 7, "parameters": {"n_paths": 5000}},
                request_only=True,
            ),
            OpenApiExample(
                "Queued run", value={"data": RUN_EXAMPLE | {"status": "queued"}}, response_only=True
            ),
        ],
    )
    def post(self, request: Request, scenario_id: str) -> Response:
        scenario = scenario_get(scenario_id=scenario_id)
        data = RunOptionsInput(data=request.data or {})
        data.is_valid(raise_exception=True)
        context = request_context(request)
        key = idempotency_key(request)
        submitted = scenario_run_submit(
            tenant=context.tenant, scenario=scenario, options=data.options(key), actor=context.user
        )
        if submitted.created:
            return object_response(request, run_v2(submitted.run), status=status.HTTP_201_CREATED)
        replayed = {REPLAYED_HEADER: "true"} if key is not None else {}
        return object_response(request, run_v2(submitted.run), headers=replayed)


class RunApi(ScenarioView):
    """``/api/v2/scenario-runs/{id}``."""

    @extend_schema(
        description="A run: state, timestamps, progress, the curve snapshot it read, output count and hash.",
        examples=[OpenApiExample("Run", value={"data": RUN_EXAMPLE}, response_only=True)],
    )
    def get(self, request: Request, run_id: str) -> Response:
        return object_response(request, run_v2(run_get(run_id=run_id)))


class RunCancelV2Api(ScenarioView):
    """``/api/v2/scenario-runs/{id}/cancel``."""

    needs = {"POST": "scenarios:run"}

    @extend_schema(
        request=None,
        description="Cancel a queued or running run (it stops between chunks, writing nothing); idempotent.",
        examples=[
            OpenApiExample(
                "Cancelled", value={"data": RUN_EXAMPLE | {"status": "cancelled"}}, response_only=True
            )
        ],
    )
    def post(self, request: Request, run_id: str) -> Response:
        run = scenario_run_cancel(run=run_get(run_id=run_id), tenant=request_context(request).tenant)
        return object_response(request, run_v2(run))


class RunOutputsQuery(OutputFiltersInput):
    format = serializers.ChoiceField(choices=["json", "csv", "parquet"], default="json")


OUTPUT_EXAMPLE = {
    "curve_key": "3f9a…",
    "tenor_label": "2027-01",
    "tenor_type": "MONTHLY",
    "contract_month": "2027-01-01",
    "metric": "mid",
    "value": 84.31,
    "band_lower": 71.02,
    "band_upper": 99.87,
    "attribution": [{"component": "policy", "delta": 1.0}, {"component": "stochastic", "delta": 1.62}],
}


class RunOutputsApi(ScenarioView):
    """``/api/v2/scenario-runs/{id}/outputs``."""

    @extend_schema(
        parameters=[
            OpenApiParameter("metric", str, description="mid, uplift or policy_uplift"),
            OpenApiParameter("tenor_type", str),
            OpenApiParameter("curve_key", str),
            OpenApiParameter("format", str, description="json (paged), csv or parquet (all matching rows)"),
            OpenApiParameter("cursor", str),
            OpenApiParameter("limit", int, description="1-100, default 10 (json)"),
        ],
        description="The run's scenario_output rows (value, P10/P90 band, per-driver attribution).",
        examples=[OpenApiExample("Rows", value={"data": [OUTPUT_EXAMPLE]}, response_only=True)],
    )
    def get(self, request: Request, run_id: str) -> Response | HttpResponse:
        run = run_get(run_id=run_id)
        query = RunOutputsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        filters = OutputFilters(values.get("metric"), values.get("tenor_type"), values.get("curve_key"))
        tenant = request_context(request).tenant
        if values["format"] == "csv":
            table = run_outputs_page(tenant=tenant, run=run, filters=filters, limit=None)
            return file_response(
                outputs_csv(table),
                content_type="text/csv; charset=utf-8",
                filename=f"scenario_run_{run.pk}.csv",
            )
        if values["format"] == "parquet":
            table = run_outputs_page(tenant=tenant, run=run, filters=filters, limit=None)
            return file_response(
                arrow_parquet(table, table.column_names),
                content_type="application/vnd.apache.parquet",
                filename=f"scenario_run_{run.pk}.parquet",
            )
        bound = {"run_id": str(run.pk), **{k: v for k, v in filters.__dict__.items() if v is not None}}
        page = v2_page_request(request, filters=bound)
        table = run_outputs_page(
            tenant=tenant, run=run, filters=filters, limit=page.limit + 1, offset=page.offset
        )
        data = rows_out(table.slice(0, page.limit).select(list(OUTPUT_COLUMNS)))
        return v2_list_response(request, data, page=page, has_more=table.num_rows > page.limit, filters=bound)


class CompareQuery(serializers.Serializer):
    other = serializers.UUIDField(help_text="the run to compare with")
    metric = serializers.ChoiceField(choices=list(METRICS), default="mid")


class RunCompareApi(ScenarioView):
    """``/api/v2/scenario-runs/{id}/compare?other=<run_id>``."""

    @extend_schema(
        parameters=[
            OpenApiParameter("other", str, required=True, description="another run of this tenant"),
            OpenApiParameter("metric", str, description="default mid"),
        ],
        description=(
            "Per curve and tenor both runs have: value, other_value, delta = other - value and delta_pct = "
            "delta / value (a fraction; null when value is 0)."
        ),
        examples=[
            OpenApiExample(
                "Delta",
                value={
                    "data": [
                        {
                            "curve_key": "3f9a…",
                            "tenor_label": "2027-01",
                            "metric": "mid",
                            "value": 84.31,
                            "other_value": 86.1,
                            "delta": 1.79,
                            "delta_pct": 0.0212,
                        }
                    ]
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request, run_id: str) -> Response:
        run = run_get(run_id=run_id)
        query = CompareQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        other = run_get(run_id=str(query.validated_data["other"]))
        table = runs_compare(
            tenant=request_context(request).tenant,
            run=run,
            other=other,
            metric=query.validated_data["metric"],
        )
        body = envelope(rows_out(table.select(list(COMPARE_COLUMNS))), query_time_ms=elapsed_ms(request))
        body["meta"].update({"run_id": str(run.pk), "other_run_id": str(other.pk), "count": table.num_rows})
        return cached_response(request, body, ttl=0)
