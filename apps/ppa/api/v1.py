"""v1 PPA endpoints, as the original contract has them (``openapi-spec-v1.yaml``): ``{meta, data}`` bodies,
signed offset cursors, 201 on create, 204 on delete. Tenant-scoped: another tenant's contract is 404.

Every role may read (``scenarios:read``); traders and admins create, change (``scenarios:write``) and delete
(``scenarios:delete``); analysts, traders and admins value (``scenarios:run``). Decision 0011.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.ppa.api.schema import V1_CONTRACT, V1_CONTRACTS, V1_VALUATE, V1_VALUATIONS
from apps.ppa.api.serializers import (
    ContractCreateV1Input,
    ContractUpdateV1Input,
    ValuateV1Input,
    contract_v1,
    ppa_metric_v1,
    valuation_record_v1,
)
from apps.ppa.selectors import ppa_contract_get, ppa_contract_list, ppa_valuation_rows
from apps.ppa.services import (
    ppa_contract_create,
    ppa_contract_delete,
    ppa_contract_update,
    ppa_valuate_scenario,
)
from aurum.api.context import request_context
from aurum.api.idempotency import REPLAYED_HEADER, idempotency_key
from aurum.api.openapi import IDEMPOTENCY_KEY, v1_page_parameters
from aurum.api.paging import page_slice, v1_page_request
from aurum.api.responses import object_response, v1_list_response
from aurum.api.views import PermissionByMethodView


class ContractListV1Api(PermissionByMethodView):
    needs = {"GET": "scenarios:read", "POST": "scenarios:write"}

    @extend_schema(
        operation_id="v1_ppa_contracts_list",
        parameters=v1_page_parameters(50, 200),
        responses=V1_CONTRACTS,
        description="The tenant's PPA contracts, newest first.",
    )
    def get(self, request: Request) -> Response:
        page = v1_page_request(request, filters={}, default=50, maximum=200)
        contracts, has_more = page_slice(ppa_contract_list(), page)
        tenant = request_context(request).tenant.schema_name
        data = [contract_v1(contract, tenant_id=tenant) for contract in contracts]
        return v1_list_response(request, data, page=page, has_more=has_more, filters={})

    @extend_schema(
        request=ContractCreateV1Input,
        responses={201: V1_CONTRACT},
        description="Create a contract; an unknown field is a 400.",
    )
    def post(self, request: Request) -> Response:
        data = ContractCreateV1Input(data=request.data)
        data.is_valid(raise_exception=True)
        context = request_context(request)
        contract = ppa_contract_create(
            tenant=context.tenant,
            terms=data.validated_data["terms"],
            instrument_id=data.validated_data.get("instrument_id"),
            actor=context.user,
        )
        body = contract_v1(contract, tenant_id=context.tenant.schema_name)
        return object_response(request, body, status=status.HTTP_201_CREATED)


class ContractDetailV1Api(PermissionByMethodView):
    needs = {"GET": "scenarios:read", "PATCH": "scenarios:write", "DELETE": "scenarios:delete"}

    @extend_schema(responses=V1_CONTRACT, description="One contract; another tenant's is 404.")
    def get(self, request: Request, contract_id: str) -> Response:
        contract = ppa_contract_get(contract_id=contract_id)
        tenant = request_context(request).tenant.schema_name
        return object_response(request, contract_v1(contract, tenant_id=tenant))

    @extend_schema(
        operation_id="v1_ppa_contracts_update",
        request=ContractUpdateV1Input,
        responses=V1_CONTRACT,
        description="Change instrument_id or replace terms.",
    )
    def patch(self, request: Request, contract_id: str) -> Response:
        contract = ppa_contract_get(contract_id=contract_id)
        data = ContractUpdateV1Input(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        context = request_context(request)
        contract = ppa_contract_update(
            tenant=context.tenant, contract=contract, actor=context.user, **data.validated_data
        )
        return object_response(request, contract_v1(contract, tenant_id=context.tenant.schema_name))

    @extend_schema(responses={204: None}, description="Delete the contract.")
    def delete(self, request: Request, contract_id: str) -> Response:
        contract = ppa_contract_get(contract_id=contract_id)
        context = request_context(request)
        ppa_contract_delete(tenant=context.tenant, contract=contract, actor=context.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContractValuationsV1Api(PermissionByMethodView):
    needs = {"GET": "scenarios:read"}

    @extend_schema(
        operation_id="v1_ppa_valuations_list",
        parameters=[
            OpenApiParameter("scenario_id", str, description="valuations against this scenario only"),
            OpenApiParameter("metric", str, description="e.g. NPV, IRR, cashflow"),
            *v1_page_parameters(200, 500),
        ],
        responses=V1_VALUATIONS,
        description="The contract's stored valuation rows.",
    )
    def get(self, request: Request, contract_id: str) -> Response:
        contract = ppa_contract_get(contract_id=contract_id)
        filters: dict[str, Any] = {
            "contract_id": str(contract.pk),
            "scenario_id": request.query_params.get("scenario_id") or None,
            "metric": request.query_params.get("metric") or None,
        }
        page = v1_page_request(request, filters=filters, default=200, maximum=500)
        rows = ppa_valuation_rows(
            tenant=request_context(request).tenant,
            contract=contract,
            scenario_id=filters["scenario_id"],
            metric=filters["metric"],
            limit=page.limit + 1,
            offset=page.offset,
        )
        data = [valuation_record_v1(row) for row in rows[: page.limit]]
        return v1_list_response(request, data, page=page, has_more=len(rows) > page.limit, filters=filters)


class ValuateV1Api(PermissionByMethodView):
    needs = {"POST": "scenarios:run"}

    @extend_schema(
        request=ValuateV1Input,
        parameters=[IDEMPOTENCY_KEY],
        responses=V1_VALUATE,
        description="Value a contract against a scenario's latest succeeded run; a replay (same key) carries "
        f"{REPLAYED_HEADER}: true. An undefined IRR is left out.",
    )
    def post(self, request: Request) -> Response:
        key = idempotency_key(request)
        data = ValuateV1Input(data=request.data)
        data.is_valid(raise_exception=True)
        context = request_context(request)
        contract = ppa_contract_get(contract_id=data.validated_data["ppa_contract_id"])
        valued = ppa_valuate_scenario(
            tenant=context.tenant,
            contract=contract,
            scenario_id=data.validated_data["scenario_id"],
            asof=data.validated_data.get("asof_date"),
            options=data.validated_data.get("options"),
            actor=context.user,
            idempotency_key=key,
        )
        # PpaMetric.value is a required number: an undefined IRR is left out here (the stored row keeps null).
        metrics = [ppa_metric_v1(row) for row in valued.rows if row["value"] is not None]
        headers = {} if valued.created else {REPLAYED_HEADER: "true"}
        return object_response(request, metrics, headers=headers)
