"""``/api/v2/ingest/quarantine``: the vendor workbook rows the validate stage held back, with their reasons;
release them (publication re-runs for those rows) or reject them, one row or many, saying why. The platform's
operators only (an operator tenant; `curves:read` to list, `curves:write` to decide): others get 403 on the
list and the bulk decisions, 404 on a row. The feed rows' review is ``/api/v2/feeds/quarantine`` (decision
0041 says why they stay two)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.ingestion.models import CurveQuarantineRelease, CurveQuarantineRow
from apps.ingestion.quarantine_review import MAX_ROWS_PER_DECISION, curve_quarantine_decide
from apps.ingestion.selectors import curve_quarantine_get, curve_quarantine_list
from aurum.api.context import request_context
from aurum.api.paging import page_slice, v2_page_request
from aurum.api.responses import object_response, v2_list_response
from aurum.api.views import PermissionByMethodView
from aurum.errors import ForbiddenError, InvalidInputError

OPERATORS = "Only the platform's market-data operators review quarantined vendor rows."


class DecisionOutput(serializers.ModelSerializer):
    class Meta:
        model = CurveQuarantineRelease
        fields = ["id", "action", "decided_by", "decided_at", "reason", "snapshot_id"]


class VendorQuarantineRowOutput(serializers.ModelSerializer):
    run = serializers.IntegerField(source="run_id")
    decision = DecisionOutput(allow_null=True)

    class Meta:
        model = CurveQuarantineRow
        fields = [
            "id",
            "dataset",
            "asof_date",
            "run",
            "sheet_name",
            "curve_key",
            "tenor_label",
            "reasons",
            "row",
            "status",
            "decision",
        ]


class _Strict(serializers.Serializer):
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        data = self.initial_data
        extra = sorted(set(data) - set(self.fields)) if isinstance(data, Mapping) else []
        if extra:
            raise serializers.ValidationError({name: "unknown field" for name in extra})
        return attrs


class DecisionInput(_Strict):
    reason = serializers.CharField(max_length=1000, help_text="why (kept with the decision and audited)")


class BulkDecisionInput(DecisionInput):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        min_length=1,
        max_length=MAX_ROWS_PER_DECISION,
        help_text=f"the rows (1–{MAX_ROWS_PER_DECISION}); all are decided or none",
    )


class DecisionResultOutput(serializers.Serializer):
    decision = DecisionOutput()
    rows = VendorQuarantineRowOutput(many=True)


def _operator(request: Request) -> None:
    if not request_context(request).tenant.is_operator:
        raise ForbiddenError(OPERATORS)


def _filters(request: Request) -> dict[str, Any]:
    query, filters = request.query_params, {}
    status = query.get("status") or None
    if status is not None and status not in CurveQuarantineRow.Status.values:
        raise InvalidInputError.field("status", "must be held, released, rejected or superseded")
    dataset, vendor = query.get("dataset") or None, query.get("vendor") or None
    if dataset and vendor and dataset != f"vendor:{vendor}":
        raise InvalidInputError.field("vendor", f"names another dataset than dataset={dataset}")
    if vendor:
        dataset = f"vendor:{vendor}"
    for name, field in (("run", serializers.IntegerField(min_value=1)), ("as_of", serializers.DateField())):
        if query.get(name):
            try:
                filters[name] = field.run_validation(query[name])
            except serializers.ValidationError as exc:
                raise InvalidInputError.field(name, "; ".join(map(str, exc.detail))) from exc
    if status:
        filters["status"] = status
    if dataset:
        filters["dataset"] = dataset
    return filters


def _decision_response(request: Request, decision: CurveQuarantineRelease) -> Response:
    rows = decision.rows.order_by("id")
    return object_response(request, DecisionResultOutput({"decision": decision, "rows": rows}).data)


class VendorQuarantineListV2Api(PermissionByMethodView):
    needs = {"GET": "curves:read"}

    @extend_schema(
        operation_id="ingest_quarantine_list",
        parameters=[
            OpenApiParameter("status", str, enum=CurveQuarantineRow.Status.values),
            OpenApiParameter("dataset", str, description="`vendor:EUGP`…"),
            OpenApiParameter("vendor", str, description="`EUGP`… (the same filter as `dataset`)"),
            OpenApiParameter("run", int, description="the ingest run that held the rows back"),
            OpenApiParameter("as_of", str, description="the workbook's as-of date, YYYY-MM-DD"),
            OpenApiParameter("limit", int, description="1–100, default 10"),
            OpenApiParameter("cursor", str, description="links.next of the previous page"),
        ],
        responses=VendorQuarantineRowOutput(many=True),
        description="Vendor workbook rows held back by the validate stage, oldest first, with the reasons "
        f"(the spec's reasons and the rules each failed) and any decision. {OPERATORS}",
    )
    def get(self, request: Request) -> Response:
        _operator(request)
        filters = _filters(request)
        page = v2_page_request(request, filters=filters)
        rows = curve_quarantine_list(
            tenant=request_context(request).tenant,
            status=filters.get("status"),
            dataset=filters.get("dataset"),
            run_id=filters.get("run"),
            asof=filters.get("as_of"),
        )
        items, has_more = page_slice(rows, page)
        data = list(VendorQuarantineRowOutput(items, many=True).data)
        cursor_filters = {k: str(v) for k, v in filters.items()}
        return v2_list_response(request, data, page=page, has_more=has_more, filters=cursor_filters)


class _Decide(PermissionByMethodView):
    needs = {"POST": "curves:write"}
    release = True

    def _decide(self, request: Request, row_ids: list[int], reason: str) -> Response:
        context = request_context(request)
        decision = curve_quarantine_decide(
            row_ids=row_ids,
            release=self.release,
            decided_by=context.user.email,
            reason=reason,
            tenant_schema=context.tenant.schema_name,
        )
        return _decision_response(request, decision)


class _DecideOne(_Decide):
    def post(self, request: Request, row_id: int) -> Response:
        row = curve_quarantine_get(tenant=request_context(request).tenant, row_id=row_id)
        body = DecisionInput(data=request.data)
        body.is_valid(raise_exception=True)
        return self._decide(request, [row.pk], body.validated_data["reason"])


class _DecideMany(_Decide):
    def post(self, request: Request) -> Response:
        _operator(request)
        body = BulkDecisionInput(data=request.data)
        body.is_valid(raise_exception=True)
        return self._decide(request, body.validated_data["ids"], body.validated_data["reason"])


_ONE = {"reason": "Vendor confirmed the crossed quote is right (Tuesday's auction)."}
_MANY = {"ids": [41, 42], "reason": "Vendor re-sent the sheet; these quotes match it."}
_RELEASE = (
    "Publish after all (appended to the run's slice of the curve table; the latest table and the catalog "
    "follow), audited with who, when and `reason`. 409 when a row was decided already, its day was replaced "
    "by a later workbook, or the day already has a row for its (curve_key, tenor_label); 422 when a row "
    "cannot be published (no curve key)."
)
_REJECT = (
    "Confirm the rows stay out for good (audited with who, when and `reason`); 409 when decided already."
)


class VendorQuarantineReleaseV2Api(_DecideOne):
    release = True

    @extend_schema(
        operation_id="ingest_quarantine_release",
        request=DecisionInput,
        responses=DecisionResultOutput,
        description=_RELEASE,
        examples=[OpenApiExample("Why", value=_ONE, request_only=True)],
    )
    def post(self, request: Request, row_id: int) -> Response:
        return super().post(request, row_id)


class VendorQuarantineRejectV2Api(_DecideOne):
    release = False

    @extend_schema(
        operation_id="ingest_quarantine_reject",
        request=DecisionInput,
        responses=DecisionResultOutput,
        description=_REJECT,
        examples=[OpenApiExample("Why", value=_ONE, request_only=True)],
    )
    def post(self, request: Request, row_id: int) -> Response:
        return super().post(request, row_id)


class VendorQuarantineBulkReleaseV2Api(_DecideMany):
    release = True

    @extend_schema(
        operation_id="ingest_quarantine_bulk_release",
        request=BulkDecisionInput,
        responses=DecisionResultOutput,
        description=f"{_RELEASE} All the rows or none; one Iceberg commit. {OPERATORS}",
        examples=[OpenApiExample("Rows", value=_MANY, request_only=True)],
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class VendorQuarantineBulkRejectV2Api(_DecideMany):
    release = False

    @extend_schema(
        operation_id="ingest_quarantine_bulk_reject",
        request=BulkDecisionInput,
        responses=DecisionResultOutput,
        description=f"{_REJECT} All the rows or none. {OPERATORS}",
        examples=[OpenApiExample("Rows", value=_MANY, request_only=True)],
    )
    def post(self, request: Request) -> Response:
        return super().post(request)
