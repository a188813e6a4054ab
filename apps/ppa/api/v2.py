"""v2 PPA endpoints: contracts CRUD, valuations (create against a scenario run or a base curve, list,
detail). Cursor-only paging with ``links``; RFC 7807 errors; tenant-scoped (another tenant's objects are 404).
Valuation POSTs take an ``Idempotency-Key``. Permissions as v1's (``apps.ppa.api.v1``).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.ppa.api.serializers import (
    CashflowOutput,
    ContractInput,
    ContractOutput,
    ContractPatchInput,
    ValuationDetailOutput,
    ValuationInput,
    ValuationOutput,
    cashflows,
)
from apps.ppa.models import PpaValuation
from apps.ppa.selectors import (
    ppa_contract_get,
    ppa_contract_list,
    ppa_valuation_get,
    ppa_valuation_list,
    ppa_valuation_rows,
    scenario_run_get,
)
from apps.ppa.services import (
    PpaValued,
    ppa_contract_create,
    ppa_contract_delete,
    ppa_contract_update,
    ppa_valuate_curve,
    ppa_valuate_scenario_run,
)
from aurum.api.context import request_context
from aurum.api.idempotency import HEADER, REPLAYED_HEADER, idempotency_key
from aurum.api.paging import page_slice, v2_page_request
from aurum.api.responses import object_response, v2_list_response
from aurum.api.views import PermissionByMethodView

READ, WRITE, DELETE, RUN = "scenarios:read", "scenarios:write", "scenarios:delete", "scenarios:run"

TERMS_EXAMPLE = {
    "counterparty": "Solar Co",
    "price_usd_mwh": 48.5,
    "volume_mwh": 1200,
    "discount_rate": 0.08,
    "upfront_cost": 25000,
    "start_date": "2025-10-01",
    "end_date": "2026-09-30",
}
CONTRACT_EXAMPLE = {
    "id": "5b0f7c0e-8a8e-4d55-9d1f-0f3b7c9b2a11",
    "instrument_id": None,
    "curve_key": "0f6d1c5e…",
    "terms": TERMS_EXAMPLE,
    "created_by": "trader@acme.example",
    "created_at": "2025-09-15T08:00:00Z",
    "updated_at": "2025-09-15T08:00:00Z",
}
VALUATION_EXAMPLE = {
    "id": "9e4a0c3d-1f2b-4c5d-8e9f-a0b1c2d3e4f5",
    "contract_id": CONTRACT_EXAMPLE["id"],
    "source": "curve",
    "scenario_id": None,
    "scenario_run_id": None,
    "curve_key": "0f6d1c5e…",
    "asof": "2025-09-12",
    "metric": "mid",
    "currency": "EUR",
    "npv": 105432.118204,
    "irr": 0.0712,
    "irr_annualised": 1.2835,
    "period_start": "2025-10-01",
    "period_end": "2026-09-30",
    "months": 12,
    "row_count": 14,
    "options": {"discount_rate": 0.1},
    "terms": {**TERMS_EXAMPLE, "discount_rate": 0.1},
    "version_hash": "3c1e…",
    "source_snapshot_id": 7713890165042110231,
    "snapshot_id": 2202957150371953641,
    "created_by": "analyst@acme.example",
    "created_at": "2025-09-15T08:01:00Z",
    "cashflows": [
        {
            "period": 1,
            "period_start": "2025-10-01",
            "period_end": "2025-10-31",
            "price": 57.1,
            "volume_mwh": 1200.0,
            "cashflow": 10920.0,
            "discounted": 10833.7,
        }
    ],
}
TERMS_PROBLEM_EXAMPLE = {
    "type": "https://aurum.dev/problems/invalid",
    "title": "Bad Request",
    "status": 400,
    "detail": "The request is not valid; see errors.",
    "errors": [
        {
            "field": "terms.price_usd_mwh",
            "message": "a contract price is required …",
            "code": "REQUIRED_FIELD_MISSING",
        },
        {"field": "terms.capacity_factor", "message": "capacity_factor must be <= 1", "code": "OUT_OF_RANGE"},
    ],
}


class ContractListV2Api(PermissionByMethodView):
    needs = {"GET": READ, "POST": WRITE}

    @extend_schema(
        operation_id="ppa_contracts_list",
        parameters=[
            OpenApiParameter("counterparty", str, description="Substring of terms.counterparty, any case"),
            OpenApiParameter("limit", int, description="1–100, default 10"),
            OpenApiParameter("cursor", str, description="links.next of the previous page"),
        ],
        responses=ContractOutput(many=True),
        description="The tenant's PPA contracts, newest first. Needs `scenarios:read`.",
        examples=[OpenApiExample("A page", value={"data": [CONTRACT_EXAMPLE]}, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        filters = {"counterparty": request.query_params.get("counterparty") or None}
        page = v2_page_request(request, filters=filters)
        contracts, has_more = page_slice(ppa_contract_list(**filters), page)
        data = list(ContractOutput(contracts, many=True).data)
        return v2_list_response(request, data, page=page, has_more=has_more, filters=filters)

    @extend_schema(
        operation_id="ppa_contracts_create",
        request=ContractInput,
        responses={201: ContractOutput},
        description=(
            "Create a contract. The terms are validated as a valuation would read them; every problem is "
            "listed in one 400 (`errors[].field` such as `terms.capacity_factor`, `errors[].code`). "
            "`curve_key` must be a curve the tenant is licensed for. Needs `scenarios:write`."
        ),
        examples=[
            OpenApiExample(
                "Fixed volume", value={"curve_key": "0f6d1c5e…", "terms": TERMS_EXAMPLE}, request_only=True
            ),
            OpenApiExample(
                "Created", value={"data": CONTRACT_EXAMPLE}, response_only=True, status_codes=["201"]
            ),
            OpenApiExample(
                "Invalid terms", value=TERMS_PROBLEM_EXAMPLE, response_only=True, status_codes=["400"]
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        data = ContractInput(data=request.data)
        data.is_valid(raise_exception=True)
        context = request_context(request)
        contract = ppa_contract_create(
            tenant=context.tenant,
            terms=data.validated_data["terms"],
            instrument_id=data.validated_data.get("instrument_id"),
            curve_key=data.validated_data.get("curve_key") or "",
            actor=context.user,
        )
        location = request.build_absolute_uri(f"/api/v2/ppa/contracts/{contract.pk}")
        return object_response(
            request,
            ContractOutput(contract).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )


class ContractDetailV2Api(PermissionByMethodView):
    needs = {"GET": READ, "PATCH": WRITE, "DELETE": DELETE}

    @extend_schema(operation_id="ppa_contracts_retrieve", responses=ContractOutput)
    def get(self, request: Request, contract_id: str) -> Response:
        contract = ppa_contract_get(contract_id=contract_id)
        return object_response(request, ContractOutput(contract).data)

    @extend_schema(
        operation_id="ppa_contracts_update",
        request=ContractPatchInput,
        responses=ContractOutput,
        description="Change instrument_id, curve_key or terms; `terms` replaces the terms as a whole. "
        "Needs `scenarios:write`.",
        examples=[
            OpenApiExample(
                "New price", value={"terms": {**TERMS_EXAMPLE, "price_usd_mwh": 51.0}}, request_only=True
            )
        ],
    )
    def patch(self, request: Request, contract_id: str) -> Response:
        contract = ppa_contract_get(contract_id=contract_id)
        data = ContractPatchInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        context = request_context(request)
        contract = ppa_contract_update(
            tenant=context.tenant, contract=contract, actor=context.user, **data.validated_data
        )
        return object_response(request, ContractOutput(contract).data)

    @extend_schema(
        operation_id="ppa_contracts_destroy",
        responses={204: None},
        description="Delete the contract with its valuations (records and lakehouse rows). "
        "Needs `scenarios:delete`.",
    )
    def delete(self, request: Request, contract_id: str) -> Response:
        contract = ppa_contract_get(contract_id=contract_id)
        context = request_context(request)
        ppa_contract_delete(tenant=context.tenant, contract=contract, actor=context.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _valuation_body(valued: PpaValued | tuple[PpaValuation, list[dict[str, Any]]]) -> dict[str, Any]:
    valuation, rows = (valued.valuation, valued.rows) if isinstance(valued, PpaValued) else valued
    return {
        **ValuationOutput(valuation).data,
        "cashflows": CashflowOutput(cashflows(rows), many=True).data,
    }


class ContractValuationListV2Api(PermissionByMethodView):
    needs = {"GET": READ, "POST": RUN}
    # The valuation keeps its key (decision 0011): a replay answers it with 200, tenant-wide, without expiry.
    idempotency = "service"

    @extend_schema(
        operation_id="ppa_valuations_list",
        parameters=[
            OpenApiParameter("limit", int, description="1–100, default 10"),
            OpenApiParameter("cursor", str, description="links.next of the previous page"),
        ],
        responses=ValuationOutput(many=True),
        description="The contract's stored valuations, newest first (without monthly cashflows; "
        "see the detail). Needs `scenarios:read`.",
        examples=[
            OpenApiExample(
                "A page",
                value={"data": [{k: v for k, v in VALUATION_EXAMPLE.items() if k != "cashflows"}]},
                response_only=True,
            )
        ],
    )
    def get(self, request: Request, contract_id: str) -> Response:
        contract = ppa_contract_get(contract_id=contract_id)
        filters = {"contract_id": str(contract.pk)}
        page = v2_page_request(request, filters=filters)
        valuations, has_more = page_slice(ppa_valuation_list(contract=contract), page)
        data = list(ValuationOutput(valuations, many=True).data)
        return v2_list_response(request, data, page=page, has_more=has_more, filters=filters)

    @extend_schema(
        operation_id="ppa_valuations_create",
        request=ValuationInput,
        parameters=[
            OpenApiParameter(
                HEADER,
                str,
                OpenApiParameter.HEADER,
                description="The same key with the same request answers the stored valuation (200, "
                "`Idempotent-Replayed: true`); with a different request, 422.",
            )
        ],
        responses={201: ValuationDetailOutput, 200: ValuationDetailOutput},
        description=(
            "Value the contract now and store the result. Either against a succeeded scenario run "
            "(`scenario_run_id`; its `mid` output, MONTHLY tenors) or against a base curve (`curve_key`, "
            "default the contract's, at `asof`, default the curve's latest). Monthly cashflow = "
            "(price − ppa_price) × volume; NPV discounts month k at (1 + discount_rate)^(k/12) and subtracts "
            "upfront_cost; IRR (monthly) by bisection, null when the cashflows never change sign. "
            "404 for a curve outside the tenant's licensed datasets. Needs `scenarios:run`."
        ),
        examples=[
            OpenApiExample(
                "Base curve",
                value={"asof": "2025-09-12", "options": {"discount_rate": 0.1}},
                request_only=True,
            ),
            OpenApiExample(
                "Scenario run",
                value={"scenario_run_id": "4d2c…", "curve_key": "0f6d1c5e…"},
                request_only=True,
            ),
            OpenApiExample(
                "Valued", value={"data": VALUATION_EXAMPLE}, response_only=True, status_codes=["201"]
            ),
        ],
    )
    def post(self, request: Request, contract_id: str) -> Response:
        key = idempotency_key(request)
        contract = ppa_contract_get(contract_id=contract_id)
        data = ValuationInput(data=request.data)
        data.is_valid(raise_exception=True)
        context = request_context(request)
        values = data.validated_data
        if values.get("scenario_run_id"):
            valued = ppa_valuate_scenario_run(
                tenant=context.tenant,
                contract=contract,
                run=scenario_run_get(run_id=values["scenario_run_id"]),
                curve_key=values.get("curve_key"),
                options=values.get("options"),
                actor=context.user,
                idempotency_key=key,
            )
        else:
            valued = ppa_valuate_curve(
                tenant=context.tenant,
                contract=contract,
                curve_key=values.get("curve_key"),
                asof=values.get("asof"),
                options=values.get("options"),
                actor=context.user,
                idempotency_key=key,
            )
        location = request.build_absolute_uri(
            f"/api/v2/ppa/contracts/{contract.pk}/valuations/{valued.valuation.pk}"
        )
        if not valued.created:
            headers = {"Location": location, REPLAYED_HEADER: "true"}
            return object_response(request, _valuation_body(valued), headers=headers)
        return object_response(
            request,
            _valuation_body(valued),
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )


class ContractValuationDetailV2Api(PermissionByMethodView):
    needs = {"GET": READ}

    @extend_schema(
        operation_id="ppa_valuations_retrieve",
        responses=ValuationDetailOutput,
        description="One stored valuation with its monthly cashflows (read back from the lakehouse).",
        examples=[OpenApiExample("Valuation", value={"data": VALUATION_EXAMPLE}, response_only=True)],
    )
    def get(self, request: Request, contract_id: str, valuation_id: str) -> Response:
        contract = ppa_contract_get(contract_id=contract_id)
        valuation = ppa_valuation_get(contract=contract, valuation_id=valuation_id)
        rows = ppa_valuation_rows(
            tenant=request_context(request).tenant, contract=contract, valuation=valuation
        )
        return object_response(request, _valuation_body((valuation, rows)))
