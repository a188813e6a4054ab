"""``/api/v2/ingest/quarantine``: the vendor workbook rows the validate stage held back, with their reasons;
release them (publication re-runs for those rows) or reject them, one row or many, saying why. The platform's
operators only (an operator tenant; `curves:read` to list, `curves:write` to decide): others get 403 on the
list and the bulk decisions, 404 on a row. The feed rows' review is ``/api/v2/feeds/quarantine`` (decision
0041 says why they stay two)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
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


def _decision_doc(*, release: bool, bulk: bool) -> Any:
    """The OpenAPI operation of one of the four decision routes."""
    action = "release" if release else "reject"
    description = _RELEASE if release else _REJECT
    if bulk:
        description += " All the rows or none; one Iceberg commit." if release else " All the rows or none."
        description += f" {OPERATORS}"
    return extend_schema_view(
        post=extend_schema(
            operation_id=f"ingest_quarantine_{'bulk_' if bulk else ''}{action}",
            request=BulkDecisionInput if bulk else DecisionInput,
            responses=DecisionResultOutput,
            description=description,
            examples=[
                OpenApiExample("Rows", value=_MANY, request_only=True)
                if bulk
                else OpenApiExample("Why", value=_ONE, request_only=True)
            ],
        )
    )


class _DecisionApi(PermissionByMethodView):
    """Release (``release = True``) or reject held rows: the row of the path (404 unless the caller may see
    it), or the body's ``ids`` on the bulk routes (no ``row_id``; 403 for a customer, as the list)."""

    needs = {"POST": "curves:write"}
    release: bool

    def post(self, request: Request, row_id: int | None = None) -> Response:
        context = request_context(request)
        if row_id is None:
            _operator(request)
            body: DecisionInput = BulkDecisionInput(data=request.data)
        else:
            curve_quarantine_get(tenant=context.tenant, row_id=row_id)  # 404 before the body is read
            body = DecisionInput(data=request.data)
        body.is_valid(raise_exception=True)
        decision = curve_quarantine_decide(
            row_ids=body.validated_data.get("ids", [row_id]),
            release=self.release,
            decided_by=context.user.email,
            reason=body.validated_data["reason"],
            tenant_schema=context.tenant.schema_name,
        )
        rows = decision.rows.order_by("id")
        return object_response(request, DecisionResultOutput({"decision": decision, "rows": rows}).data)


@_decision_doc(release=True, bulk=False)
class VendorQuarantineReleaseV2Api(_DecisionApi):
    release = True


@_decision_doc(release=False, bulk=False)
class VendorQuarantineRejectV2Api(_DecisionApi):
    release = False


@_decision_doc(release=True, bulk=True)
class VendorQuarantineBulkReleaseV2Api(_DecisionApi):
    release = True


@_decision_doc(release=False, bulk=True)
class VendorQuarantineBulkRejectV2Api(_DecisionApi):
    release = False
