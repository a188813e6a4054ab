"""v2 PPA endpoints: contracts CRUD, valuations (create against a scenario run or a base curve, list,
detail). Cursor-only paging with ``links``; RFC 7807 errors; tenant-scoped (another tenant's objects are 404).
"""

from __future__ import annotations

import time
from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.ppa.api.access import DELETE, READ, RUN, WRITE
from apps.ppa.api.paging import v2_page_cursors, v2_page_request
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
from aurum.api.conditional import cached_response
from aurum.api.envelope import envelope, envelope_v2
from aurum.api.permissions import request_membership
from aurum.api.views import PermissionByMethodView

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


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _list_response(request: Request, body: dict[str, Any]) -> Response:
    # Tenant data that changes with every write: no-store, but the ETag answers If-None-Match (304).
    return cached_response(request, body, ttl=0)


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
        started = time.perf_counter()
        filters = {"counterparty": request.query_params.get("counterparty") or None}
        page = v2_page_request(request, filters=filters)
        contracts = list(ppa_contract_list(**filters)[page.offset : page.offset + page.limit + 1])
        has_more = len(contracts) > page.limit
        next_cursor, prev_cursor = v2_page_cursors(page, has_more=has_more, filters=filters)
        body = envelope_v2(
            request,
            list(ContractOutput(contracts[: page.limit], many=True).data),
            tenant_id=request_membership(request).tenant.schema_name,
            query_time_ms=_ms(started),
            processing_time_ms=_ms(started),
            next_cursor=next_cursor,
            prev_cursor=prev_cursor,
            has_more=has_more,
            limit=page.limit,
        )
        return _list_response(request, body)

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
        started = time.perf_counter()
        data = ContractInput(data=request.data)
        data.is_valid(raise_exception=True)
        membership = request_membership(request)
        contract = ppa_contract_create(
            tenant=membership.tenant,
            terms=data.validated_data["terms"],
            instrument_id=data.validated_data.get("instrument_id"),
            curve_key=data.validated_data.get("curve_key") or "",
            actor=membership.user,
        )
        body = envelope(ContractOutput(contract).data, query_time_ms=_ms(started))
        response = Response(body, status=status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(f"/api/v2/ppa/contracts/{contract.pk}")
        return response


class ContractDetailV2Api(PermissionByMethodView):
    needs = {"GET": READ, "PATCH": WRITE, "DELETE": DELETE}

    @extend_schema(operation_id="ppa_contracts_retrieve", responses=ContractOutput)
    def get(self, request: Request, contract_id: str) -> Response:
        started = time.perf_counter()
        contract = ppa_contract_get(contract_id=contract_id)
        return Response(envelope(ContractOutput(contract).data, query_time_ms=_ms(started)))

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
        started = time.perf_counter()
        contract = ppa_contract_get(contract_id=contract_id)
        data = ContractPatchInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        membership = request_membership(request)
        contract = ppa_contract_update(
            tenant=membership.tenant, contract=contract, actor=membership.user, **data.validated_data
        )
        return Response(envelope(ContractOutput(contract).data, query_time_ms=_ms(started)))

    @extend_schema(
        operation_id="ppa_contracts_destroy",
        responses={204: None},
        description="Delete the contract with its valuations (records and lakehouse rows). "
        "Needs `scenarios:delete`.",
    )
    def delete(self, request: Request, contract_id: str) -> Response:
        contract = ppa_contract_get(contract_id=contract_id)
        membership = request_membership(request)
        ppa_contract_delete(tenant=membership.tenant, contract=contract, actor=membership.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _valuation_body(valued: PpaValued | tuple[PpaValuation, list[dict[str, Any]]]) -> dict[str, Any]:
    valuation, rows = (valued.valuation, valued.rows) if isinstance(valued, PpaValued) else valued
    return {
        **ValuationOutput(valuation).data,
        "cashflows": CashflowOutput(cashflows(rows), many=True).data,
    }


class ContractValuationListV2Api(PermissionByMethodView):
    needs = {"GET": READ, "POST": RUN}

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
        started = time.perf_counter()
        contract = ppa_contract_get(contract_id=contract_id)
        filters = {"contract_id": str(contract.pk)}
        page = v2_page_request(request, filters=filters)
        valuations = list(ppa_valuation_list(contract=contract)[page.offset : page.offset + page.limit + 1])
        has_more = len(valuations) > page.limit
        next_cursor, prev_cursor = v2_page_cursors(page, has_more=has_more, filters=filters)
        body = envelope_v2(
            request,
            list(ValuationOutput(valuations[: page.limit], many=True).data),
            tenant_id=request_membership(request).tenant.schema_name,
            query_time_ms=_ms(started),
            processing_time_ms=_ms(started),
            next_cursor=next_cursor,
            prev_cursor=prev_cursor,
            has_more=has_more,
            limit=page.limit,
        )
        return _list_response(request, body)

    @extend_schema(
        operation_id="ppa_valuations_create",
        request=ValuationInput,
        responses={201: ValuationDetailOutput},
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
        started = time.perf_counter()
        contract = ppa_contract_get(contract_id=contract_id)
        data = ValuationInput(data=request.data)
        data.is_valid(raise_exception=True)
        membership = request_membership(request)
        values = data.validated_data
        if values.get("scenario_run_id"):
            valued = ppa_valuate_scenario_run(
                tenant=membership.tenant,
                contract=contract,
                run=scenario_run_get(run_id=values["scenario_run_id"]),
                curve_key=values.get("curve_key"),
                options=values.get("options"),
                actor=membership.user,
            )
        else:
            valued = ppa_valuate_curve(
                tenant=membership.tenant,
                contract=contract,
                curve_key=values.get("curve_key"),
                asof=values.get("asof"),
                options=values.get("options"),
                actor=membership.user,
            )
        body = envelope(_valuation_body(valued), query_time_ms=_ms(started))
        response = Response(body, status=status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(
            f"/api/v2/ppa/contracts/{contract.pk}/valuations/{valued.valuation.pk}"
        )
        return response


class ContractValuationDetailV2Api(PermissionByMethodView):
    needs = {"GET": READ}

    @extend_schema(
        operation_id="ppa_valuations_retrieve",
        responses=ValuationDetailOutput,
        description="One stored valuation with its monthly cashflows (read back from the lakehouse).",
        examples=[OpenApiExample("Valuation", value={"data": VALUATION_EXAMPLE}, response_only=True)],
    )
    def get(self, request: Request, contract_id: str, valuation_id: str) -> Response:
        started = time.perf_counter()
        contract = ppa_contract_get(contract_id=contract_id)
        valuation = ppa_valuation_get(contract=contract, valuation_id=valuation_id)
        rows = ppa_valuation_rows(
            tenant=request_membership(request).tenant, contract=contract, valuation=valuation
        )
        return Response(envelope(_valuation_body((valuation, rows)), query_time_ms=_ms(started)))
