"""v1 PPA endpoints, as the original contract has them (``openapi-spec-v1.yaml``): ``{meta, data}`` bodies,
signed offset cursors, 201 on create, 204 on delete. Tenant-scoped: another tenant's contract is 404."""

from __future__ import annotations

import time
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.ppa.api.access import DELETE, READ, RUN, WRITE
from apps.ppa.api.paging import v1_page_meta, v1_page_request
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
from aurum.api.envelope import envelope
from aurum.api.permissions import request_membership
from aurum.api.views import PermissionByMethodView


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


class ContractListV1Api(PermissionByMethodView):
    needs = {"GET": READ, "POST": WRITE}

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        started = time.perf_counter()
        page = v1_page_request(request, filters={}, default=50, maximum=200)
        contracts = list(ppa_contract_list()[page.offset : page.offset + page.limit + 1])
        has_more = len(contracts) > page.limit
        tenant = request_membership(request).tenant.schema_name
        data = [contract_v1(contract, tenant_id=tenant) for contract in contracts[: page.limit]]
        body = envelope(data, query_time_ms=_ms(started))
        body["meta"].update(v1_page_meta(page, returned=len(data), has_more=has_more, filters={}))
        return Response(body)

    @extend_schema(exclude=True)
    def post(self, request: Request) -> Response:
        started = time.perf_counter()
        data = ContractCreateV1Input(data=request.data)
        data.is_valid(raise_exception=True)
        membership = request_membership(request)
        contract = ppa_contract_create(
            tenant=membership.tenant,
            terms=data.validated_data["terms"],
            instrument_id=data.validated_data.get("instrument_id"),
            actor=membership.user,
        )
        body = envelope(
            contract_v1(contract, tenant_id=membership.tenant.schema_name), query_time_ms=_ms(started)
        )
        return Response(body, status=status.HTTP_201_CREATED)


class ContractDetailV1Api(PermissionByMethodView):
    needs = {"GET": READ, "PATCH": WRITE, "DELETE": DELETE}

    @extend_schema(exclude=True)
    def get(self, request: Request, contract_id: str) -> Response:
        started = time.perf_counter()
        contract = ppa_contract_get(contract_id=contract_id)
        tenant = request_membership(request).tenant.schema_name
        return Response(envelope(contract_v1(contract, tenant_id=tenant), query_time_ms=_ms(started)))

    @extend_schema(exclude=True)
    def patch(self, request: Request, contract_id: str) -> Response:
        started = time.perf_counter()
        contract = ppa_contract_get(contract_id=contract_id)
        data = ContractUpdateV1Input(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        membership = request_membership(request)
        contract = ppa_contract_update(
            tenant=membership.tenant, contract=contract, actor=membership.user, **data.validated_data
        )
        body = envelope(
            contract_v1(contract, tenant_id=membership.tenant.schema_name), query_time_ms=_ms(started)
        )
        return Response(body)

    @extend_schema(exclude=True)
    def delete(self, request: Request, contract_id: str) -> Response:
        contract = ppa_contract_get(contract_id=contract_id)
        membership = request_membership(request)
        ppa_contract_delete(tenant=membership.tenant, contract=contract, actor=membership.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContractValuationsV1Api(PermissionByMethodView):
    needs = {"GET": READ}

    @extend_schema(exclude=True)
    def get(self, request: Request, contract_id: str) -> Response:
        started = time.perf_counter()
        contract = ppa_contract_get(contract_id=contract_id)
        filters: dict[str, Any] = {
            "contract_id": str(contract.pk),
            "scenario_id": request.query_params.get("scenario_id") or None,
            "metric": request.query_params.get("metric") or None,
        }
        page = v1_page_request(request, filters=filters, default=200, maximum=500)
        rows = ppa_valuation_rows(
            tenant=request_membership(request).tenant,
            contract=contract,
            scenario_id=filters["scenario_id"],
            metric=filters["metric"],
            limit=page.limit + 1,
            offset=page.offset,
        )
        has_more = len(rows) > page.limit
        data = [valuation_record_v1(row) for row in rows[: page.limit]]
        body = envelope(data, query_time_ms=_ms(started))
        body["meta"].update(v1_page_meta(page, returned=len(data), has_more=has_more, filters=filters))
        return Response(body)


class ValuateV1Api(PermissionByMethodView):
    needs = {"POST": RUN}

    @extend_schema(exclude=True)
    def post(self, request: Request) -> Response:
        started = time.perf_counter()
        data = ValuateV1Input(data=request.data)
        data.is_valid(raise_exception=True)
        membership = request_membership(request)
        contract = ppa_contract_get(contract_id=data.validated_data["ppa_contract_id"])
        valued = ppa_valuate_scenario(
            tenant=membership.tenant,
            contract=contract,
            scenario_id=data.validated_data["scenario_id"],
            asof=data.validated_data.get("asof_date"),
            options=data.validated_data.get("options"),
            actor=membership.user,
        )
        # PpaMetric.value is a required number: an undefined IRR is left out here (the stored row keeps null).
        metrics = [ppa_metric_v1(row) for row in valued.rows if row["value"] is not None]
        return Response(envelope(metrics, query_time_ms=_ms(started)))
