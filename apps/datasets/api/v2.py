"""``/api/v2/datasets`` (the licensed datasets' contracts and freshness) and ``/api/v2/backfills`` (the
platform operators' backfills: dry run, per-window status, failed-only retry, cancel)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.datasets.api.serializers import (
    BackfillDetailOutput,
    BackfillInput,
    BackfillOutput,
    dataset_out,
)
from apps.datasets.registry import contract_get
from apps.datasets.selectors import (
    backfill_get,
    backfill_list,
    backfill_window_counts,
    dataset_status_for_tenant,
    dataset_status_get,
)
from apps.datasets.services.backfills import (
    backfill_cancel,
    backfill_create,
    backfill_plan,
    backfill_retry,
)
from aurum.api.context import request_context
from aurum.api.paging import page_slice, v2_page_request
from aurum.api.responses import object_response, v2_list_response
from aurum.api.views import PermissionByMethodView
from aurum.errors import ForbiddenError

READ, WRITE = "curves:read", "curves:write"
PAGING = [
    OpenApiParameter("limit", int, description="1–100, default 10"),
    OpenApiParameter("cursor", str, description="links.next of the previous page"),
]
DATASET_EXAMPLE = {
    "id": "feed:fred:DGS10",
    "title": "FRED DGS10",
    "kind": "feed",
    "licence": "feed:fred",
    "status": "late",
    "last_vintage": {"fetched_until": "2026-11-30T00:00:00Z", "landed_at": "2026-11-30T14:02:11Z"},
    "latest_due": {
        "publication_day": "2026-12-02",
        "expected_at": "2026-12-02T15:00:00Z",
        "due_at": "2026-12-02T19:00:00Z",
        "period": {"start": "2026-12-01T00:00:00Z", "end": "2026-12-02T00:00:00Z"},
    },
    "late_since": "2026-12-02T19:00:41Z",
    "recovered_at": None,
}
DATASET = inline_serializer(name="DatasetStatus", fields={"data": serializers.DictField()})
DATASETS = inline_serializer(
    name="DatasetStatusPage",
    fields={
        "meta": serializers.DictField(),
        "data": serializers.ListField(),
        "links": serializers.DictField(),
    },
)
DRY_RUN = inline_serializer(name="BackfillDryRun", fields={"data": serializers.DictField()})
OPERATORS = "Only the platform's market-data operators (an operator tenant, `curves:write`) may backfill."


class DatasetListV2Api(PermissionByMethodView):
    needs = {"GET": READ}

    @extend_schema(
        operation_id="datasets_list",
        parameters=PAGING,
        responses=DATASETS,
        description="The datasets the tenant licenses (every one for operators), by id: each with its "
        "contract (schema, calendar, expected time, SLA, quality rules), last vintage, status "
        "(`on_time`, `late`, `recovered`) and next expected publication.",
        examples=[OpenApiExample("A page", value={"data": [DATASET_EXAMPLE]}, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        page = v2_page_request(request, filters={})
        statuses = dataset_status_for_tenant(tenant=request_context(request).tenant, now=timezone.now())
        items, has_more = page_slice(statuses, page)
        data = [dataset_out(item) for item in items]
        return v2_list_response(request, data, page=page, has_more=has_more, filters={})


class DatasetDetailV2Api(PermissionByMethodView):
    needs = {"GET": READ}

    @extend_schema(
        operation_id="datasets_retrieve",
        responses=DATASET,
        description="One dataset by id (`vendor:EUGP`, `feed:fred:DGS10`); 404 when unknown or not licensed.",
        examples=[OpenApiExample("DGS10", value={"data": DATASET_EXAMPLE}, response_only=True)],
    )
    def get(self, request: Request, dataset_id: str) -> Response:
        state = dataset_status_get(
            tenant=request_context(request).tenant, dataset_id=dataset_id, now=timezone.now()
        )
        return object_response(request, dataset_out(state))


def _operator(request: Request) -> None:
    if not request_context(request).tenant.is_operator:
        raise ForbiddenError(OPERATORS)


class BackfillListV2Api(PermissionByMethodView):
    needs = {"GET": READ, "POST": WRITE}

    @extend_schema(
        operation_id="backfills_list",
        parameters=PAGING,
        responses=BackfillOutput(many=True),
        description=f"Backfills, newest first, with their windows counted by status. {OPERATORS}",
    )
    def get(self, request: Request) -> Response:
        _operator(request)
        page = v2_page_request(request, filters={})
        items, has_more = page_slice(backfill_list(tenant=request_context(request).tenant), page)
        data = list(BackfillOutput(backfill_window_counts(items), many=True).data)
        return v2_list_response(request, data, page=page, has_more=has_more, filters={})

    @extend_schema(
        operation_id="backfills_create",
        request=BackfillInput,
        responses={202: BackfillDetailOutput, 200: DRY_RUN},
        description="Backfill a dataset from `from` to `to` (days of data, inclusive): one window per period "
        "of its publication calendar, each run on the backfill queue. With `dry_run` the answer is the "
        "windows that would run and their count (200), nothing is recorded. A vendor EOD dataset reads each "
        f"day's workbook from the backfill folder (`AURUM_BACKFILL_EOD_DIR`). {OPERATORS}",
        examples=[
            OpenApiExample(
                "Dry run",
                value={
                    "dataset": "feed:fred:DGS10",
                    "from": "2024-04-29",
                    "to": "2024-05-03",
                    "dry_run": True,
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        _operator(request)
        data = BackfillInput(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        context = request_context(request)
        if body["dry_run"]:
            contract = contract_get(dataset_id=body["dataset"])
            windows = backfill_plan(contract=contract, first_day=body["from"], last_day=body["to"])
            return object_response(
                request,
                {
                    "dataset": contract.id,
                    "from": body["from"],
                    "to": body["to"],
                    "dry_run": True,
                    "count": len(windows),
                    "windows": [
                        {"window_start": w.start, "window_end": w.end, "source_file": w.source_file or None}
                        for w in windows
                    ],
                },
            )
        backfill = backfill_create(
            dataset_id=body["dataset"],
            first_day=body["from"],
            last_day=body["to"],
            requested_by=context.user,
            tenant_schema=context.tenant.schema_name,
        )
        return object_response(
            request,
            BackfillDetailOutput(backfill).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": reverse("backfill", args=[backfill.pk])},
        )


class BackfillDetailV2Api(PermissionByMethodView):
    needs = {"GET": READ}

    @extend_schema(
        operation_id="backfills_retrieve",
        responses=BackfillDetailOutput,
        description="One backfill with every window's state, run and error (operators; 404 otherwise).",
    )
    def get(self, request: Request, backfill_id: int) -> Response:
        backfill = backfill_get(tenant=request_context(request).tenant, backfill_id=backfill_id)
        return object_response(request, BackfillDetailOutput(backfill).data)


class BackfillRetryV2Api(PermissionByMethodView):
    needs = {"POST": WRITE}

    @extend_schema(
        operation_id="backfills_retry",
        request=None,
        responses={202: BackfillDetailOutput},
        description="Queue the failed windows again (the others keep their outcome); 409 when none failed.",
    )
    def post(self, request: Request, backfill_id: int) -> Response:
        context = request_context(request)
        backfill = backfill_get(tenant=context.tenant, backfill_id=backfill_id)
        _operator(request)
        retried = backfill_retry(backfill=backfill, tenant_schema=context.tenant.schema_name)
        return object_response(request, BackfillDetailOutput(retried).data, status=status.HTTP_202_ACCEPTED)


class BackfillCancelV2Api(PermissionByMethodView):
    needs = {"POST": WRITE}

    @extend_schema(
        operation_id="backfills_cancel",
        request=None,
        responses={200: BackfillDetailOutput},
        description="Cancel the windows not started yet (running ones finish); 409 when it finished already.",
    )
    def post(self, request: Request, backfill_id: int) -> Response:
        context = request_context(request)
        backfill = backfill_get(tenant=context.tenant, backfill_id=backfill_id)
        _operator(request)
        cancelled = backfill_cancel(backfill=backfill, tenant_schema=context.tenant.schema_name)
        return object_response(request, BackfillDetailOutput(cancelled).data)
