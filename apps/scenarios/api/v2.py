"""v2 scenario endpoints: cursor-only lists with ``links`` and ``Link``, RFC 7807 errors, runs → 201,
``Idempotency-Key`` on POSTs, outputs as JSON, CSV or Parquet, and run comparison."""

from __future__ import annotations

import time
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.scenarios.api.serializers import (
    OutputFiltersInput,
    RunOptionsInput,
    ScenarioInput,
    ScenarioUpdateInput,
    guarded,
    header_idempotency_key,
    outputs_csv,
    rows_out,
    run_v2,
    scenario_v2,
    selection_from,
)
from apps.scenarios.api.v1 import _actor, _ByMethod, _ms, _tenant
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
from apps.scenarios.services import (
    CurveSelection,
    scenario_create,
    scenario_delete,
    scenario_run_cancel,
    scenario_run_submit,
    scenario_update,
)
from aurum.api.arrow import arrow_parquet
from aurum.api.conditional import cached_response
from aurum.api.cursors import v2_cursor_decode, v2_cursor_encode
from aurum.api.envelope import envelope, envelope_v2, link_header

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


def _cursor_page(
    request: Request, items: QuerySet[Any], filters: dict[str, Any], default: int = 10
) -> tuple[list[Any], str | None, str | None, int]:
    """A v2 page: ``limit`` 1-100 (10), a signed cursor bound to the filters."""
    try:
        limit = int(request.query_params.get("limit", default))
    except ValueError:
        raise serializers.ValidationError({"limit": "must be an integer 1-100"}) from None
    if not 1 <= limit <= 100:
        raise serializers.ValidationError({"limit": "must be an integer 1-100"})
    offset = 0
    if token := request.query_params.get("cursor"):
        offset = v2_cursor_decode(token, filters=filters).offset
    rows = list(items[offset : offset + limit + 1])
    next_cursor = (
        v2_cursor_encode(offset=offset + limit, limit=limit, filters=filters) if len(rows) > limit else None
    )
    prev_cursor = (
        v2_cursor_encode(offset=max(offset - limit, 0), limit=limit, filters=filters) if offset else None
    )
    return rows[:limit], next_cursor, prev_cursor, limit


def _list_response(
    request: Request,
    data: list[Any],
    started: float,
    next_cursor: str | None,
    prev_cursor: str | None,
    limit: int,
) -> Response:
    body = envelope_v2(
        request,
        data,
        tenant_id=_tenant(request).schema_name,
        query_time_ms=_ms(started),
        processing_time_ms=_ms(started),
        next_cursor=next_cursor,
        prev_cursor=prev_cursor,
        has_more=next_cursor is not None,
        limit=limit,
    )
    link = link_header(body["links"])
    return Response(body, headers={"Link": link} if link else None)


class ScenariosApi(_ByMethod):
    """``/api/v2/scenarios``."""

    needs = {"GET": "scenarios:read", "POST": "scenarios:write"}

    @extend_schema(
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
        started = time.perf_counter()
        filters = {
            "name_filter": request.query_params.get("name_filter"),
            "status": request.query_params.get("status"),
        }
        scenarios = scenario_list(name=filters["name_filter"], status=filters["status"])
        rows, next_cursor, prev_cursor, limit = _cursor_page(request, scenarios, filters)
        tenant = _tenant(request)
        return _list_response(
            request, [scenario_v2(s, tenant) for s in rows], started, next_cursor, prev_cursor, limit
        )

    @extend_schema(
        request=ScenarioInput,
        description=(
            "Create a scenario: driver assumptions, the curves they move (curve_keys or curve_filter) and "
            "the base as-of (omit for the latest). Invalid assumptions are a 400 whose errors carry each "
            "validation result (field, code, message, severity, suggestion); a name taken (ignoring case) "
            "is a 409."
        ),
        examples=[OpenApiExample("Carbon tax", value=SCENARIO_EXAMPLE, request_only=True)],
    )
    def post(self, request: Request) -> Response:
        started = time.perf_counter()
        data = ScenarioInput(data=request.data)
        data.is_valid(raise_exception=True)
        tenant = _tenant(request)

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
            body = envelope(scenario_v2(scenario, tenant), query_time_ms=_ms(started))
            return Response(body, status=status.HTTP_201_CREATED)

        return guarded(request, create)


class ScenarioApi(_ByMethod):
    """``/api/v2/scenarios/{id}``."""

    needs = {"GET": "scenarios:read", "PATCH": "scenarios:write", "DELETE": "scenarios:delete"}

    @extend_schema(
        description="One scenario with its assumptions' validation report; ETag/304.",
        examples=[OpenApiExample("Scenario", value={"data": SCENARIO_EXAMPLE}, response_only=True)],
    )
    def get(self, request: Request, scenario_id: str) -> Response:
        started = time.perf_counter()
        scenario = scenario_get(scenario_id=scenario_id)
        return cached_response(
            request, envelope(scenario_v2(scenario, _tenant(request)), query_time_ms=_ms(started)), ttl=0
        )

    @extend_schema(
        request=ScenarioUpdateInput,
        description="Change fields (status archived archives it); every change bumps version.",
        examples=[OpenApiExample("Archive", value={"status": "archived"}, request_only=True)],
    )
    def patch(self, request: Request, scenario_id: str) -> Response:
        started = time.perf_counter()
        scenario = scenario_get(scenario_id=scenario_id)
        data = ScenarioUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        tenant = _tenant(request)
        values = {
            k: v
            for k, v in data.validated_data.items()
            if k in ("name", "description", "status", "assumptions", "parameters", "tags")
        }
        current = CurveSelection(tuple(scenario.curve_keys), dict(scenario.curve_filter), scenario.base_asof)
        selection = selection_from(data.validated_data, current)
        if selection is not None and selection != current:
            values["selection"] = selection

        def update() -> Response:
            scenario_update(scenario=scenario, tenant=tenant, **values)
            fresh = scenario_get(scenario_id=scenario_id)
            return Response(envelope(scenario_v2(fresh, tenant), query_time_ms=_ms(started)))

        return guarded(request, update)

    @extend_schema(description="Delete the scenario, its runs (unfinished ones are cancelled) and outputs.")
    def delete(self, request: Request, scenario_id: str) -> Response:
        scenario_delete(scenario=scenario_get(scenario_id=scenario_id), tenant=_tenant(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ScenarioRunsApi(_ByMethod):
    """``/api/v2/scenarios/{id}/runs``."""

    needs = {"GET": "scenarios:read", "POST": "scenarios:run"}

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
        started = time.perf_counter()
        scenario = scenario_get(scenario_id=scenario_id)
        filters = {"scenario_id": scenario_id, "status_filter": request.query_params.get("status_filter")}
        runs = run_list(scenario=scenario, status=filters["status_filter"])
        rows, next_cursor, prev_cursor, limit = _cursor_page(request, runs, filters)
        return _list_response(
            request, [run_v2(run) for run in rows], started, next_cursor, prev_cursor, limit
        )

    @extend_schema(
        request=RunOptionsInput,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        description=(
            "Queue a run → 201. The same inputs (input hash: assumptions, curves, base as-of and the curve "
            "snapshot, seed, parameters, code version) or the same Idempotency-Key return the existing run "
            "with 200. parameters.n_paths sets the Monte Carlo paths (default 1000, at most 100,000)."
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
        started = time.perf_counter()
        scenario = scenario_get(scenario_id=scenario_id)
        data = RunOptionsInput(data=request.data or {})
        data.is_valid(raise_exception=True)
        key = header_idempotency_key(request)

        def submit() -> Response:
            submitted = scenario_run_submit(
                tenant=_tenant(request), scenario=scenario, options=data.options(key), actor=_actor(request)
            )
            code = status.HTTP_201_CREATED if submitted.created else status.HTTP_200_OK
            return Response(envelope(run_v2(submitted.run), query_time_ms=_ms(started)), status=code)

        return guarded(request, submit)


class RunApi(_ByMethod):
    """``/api/v2/scenario-runs/{id}``."""

    @extend_schema(
        description="A run: state, timestamps, progress, the curve snapshot it read, output count and hash.",
        examples=[OpenApiExample("Run", value={"data": RUN_EXAMPLE}, response_only=True)],
    )
    def get(self, request: Request, run_id: str) -> Response:
        started = time.perf_counter()
        return cached_response(
            request, envelope(run_v2(run_get(run_id=run_id)), query_time_ms=_ms(started)), ttl=0
        )


class RunCancelV2Api(_ByMethod):
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
        started = time.perf_counter()
        run = scenario_run_cancel(run=run_get(run_id=run_id), tenant=_tenant(request))
        return Response(envelope(run_v2(run), query_time_ms=_ms(started)))


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


class RunOutputsApi(_ByMethod):
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
        started = time.perf_counter()
        run = run_get(run_id=run_id)
        query = RunOutputsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        filters = OutputFilters(values.get("metric"), values.get("tenor_type"), values.get("curve_key"))
        tenant = _tenant(request)
        if values["format"] in ("csv", "parquet"):
            table = run_outputs_page(tenant=tenant, run=run, filters=filters, limit=None)
            if values["format"] == "csv":
                response = HttpResponse(outputs_csv(table), content_type="text/csv; charset=utf-8")
                response["Content-Disposition"] = f'attachment; filename="scenario_run_{run.pk}.csv"'
                return response
            response = HttpResponse(
                arrow_parquet(table, table.column_names), content_type="application/vnd.apache.parquet"
            )
            response["Content-Disposition"] = f'attachment; filename="scenario_run_{run.pk}.parquet"'
            return response
        bound = {"run_id": str(run.pk), **{k: v for k, v in filters.__dict__.items() if v is not None}}
        try:
            limit = int(request.query_params.get("limit", 10))
        except ValueError:
            raise serializers.ValidationError({"limit": "must be an integer 1-100"}) from None
        if not 1 <= limit <= 100:
            raise serializers.ValidationError({"limit": "must be an integer 1-100"})
        offset = 0
        if token := request.query_params.get("cursor"):
            offset = v2_cursor_decode(token, filters=bound).offset
        table = run_outputs_page(tenant=tenant, run=run, filters=filters, limit=limit + 1, offset=offset)
        more = table.num_rows > limit
        next_cursor = v2_cursor_encode(offset=offset + limit, limit=limit, filters=bound) if more else None
        prev_cursor = (
            v2_cursor_encode(offset=max(offset - limit, 0), limit=limit, filters=bound) if offset else None
        )
        data = rows_out(table.slice(0, limit).select(list(OUTPUT_COLUMNS)))
        return _list_response(request, data, started, next_cursor, prev_cursor, limit)


class CompareQuery(serializers.Serializer):
    other = serializers.UUIDField(help_text="the run to compare with")
    metric = serializers.ChoiceField(choices=list(METRICS), default="mid")


class RunCompareApi(_ByMethod):
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
        started = time.perf_counter()
        run = run_get(run_id=run_id)
        query = CompareQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        other = run_get(run_id=str(query.validated_data["other"]))
        table = runs_compare(
            tenant=_tenant(request), run=run, other=other, metric=query.validated_data["metric"]
        )
        body = envelope(rows_out(table.select(list(COMPARE_COLUMNS))), query_time_ms=_ms(started))
        body["meta"].update({"run_id": str(run.pk), "other_run_id": str(other.pk), "count": table.num_rows})
        return Response(body)
