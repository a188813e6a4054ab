"""The original v1 contract's two administrative scenario paths:

- ``POST /api/v1/scenarios/runs/{run_id}/state``: an administrator ends an unfinished run as CANCELLED or
  FAILED (with ``error``), through the services the system uses; other transitions are 409 problems.
- ``POST /api/v1/admin/cache/scenario/{scenario_id}/invalidate``: cached answers about the scenario's outputs
  are recomputed on their next read (204).

Both need ``admin:read`` (the admin role's; a token needs the scope); the state change needs
``scenarios:write`` as well. Another tenant's run or scenario, or another tenant's ``tenant_id``, is 404.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from apps.scenarios.api.base import ScenarioView
from apps.scenarios.api.schema import V1_RUN
from apps.scenarios.api.serializers import run_v1, run_v1_meta
from apps.scenarios.selectors import run_get, scenario_get
from apps.scenarios.services.admin import scenario_outputs_cache_invalidate, scenario_run_state_set
from aurum.api.context import request_context
from aurum.api.permissions import Requires
from aurum.api.responses import object_response
from aurum.errors import NotFoundError
from tenants.models import Tenant

ADMIN_NEED = "admin:read"
V1_RUN_STATES = r"^(?i:queued|running|succeeded|failed|cancelled)$"


class RunStateInput(serializers.Serializer):
    state = serializers.RegexField(
        V1_RUN_STATES, help_text="QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED (only the last two apply)"
    )
    error = serializers.CharField(
        required=False, allow_blank=True, max_length=4000, help_text="the reason, required for FAILED"
    )


class RunStateApi(ScenarioView):
    """``POST /api/v1/scenarios/runs/{run_id}/state?state=...`` (or a body ``{state, error?}``)."""

    needs = {"POST": ADMIN_NEED}

    def get_permissions(self) -> list[BasePermission]:
        return [*super().get_permissions(), Requires("scenarios:write")()]

    @extend_schema(
        operation_id="v1_scenarios_runs_state_create",
        request=RunStateInput,
        parameters=[
            OpenApiParameter("state", str, OpenApiParameter.QUERY, required=False, pattern=V1_RUN_STATES),
            OpenApiParameter("error", str, OpenApiParameter.QUERY, required=False),
        ],
        responses=V1_RUN,
        description="End an unfinished run as CANCELLED or FAILED (error required) through the services the "
        "system uses (audited, slot freed); the state the run is already in answers it unchanged; any other "
        "transition is 409. Needs admin:read and scenarios:write.",
    )
    def post(self, request: Request, run_id: str) -> Response:
        body = request.data if hasattr(request.data, "get") else {}
        given: dict[str, Any] = {}
        for name in ("state", "error"):  # the contract's query parameters, else the spec's body
            value = request.query_params.get(name, body.get(name))
            if value is not None:
                given[name] = value
        data = RunStateInput(data=given)
        data.is_valid(raise_exception=True)
        run = scenario_run_state_set(
            run=run_get(run_id=run_id),
            tenant=request_context(request).tenant,
            state=data.validated_data["state"],
            error=data.validated_data.get("error", ""),
        )
        return object_response(request, run_v1(run), meta=run_v1_meta(run))


def _check_tenant(given: str | None, tenant: Tenant) -> None:
    """The v1 ``tenant_id`` override: only the caller's own tenant exists for the caller (else 404)."""
    if given not in (None, "", tenant.schema_name, str(tenant.pk)):
        raise NotFoundError("No such tenant.")


class ScenarioCacheInvalidateApi(ScenarioView):
    """``POST /api/v1/admin/cache/scenario/{scenario_id}/invalidate`` → 204."""

    needs = {"POST": ADMIN_NEED}

    @extend_schema(
        operation_id="v1_admin_cache_scenario_invalidate_create",
        tags=["v1 scenarios"],  # a scenario's cache: with the other v1 scenario operations
        request=None,
        parameters=[OpenApiParameter("tenant_id", str, OpenApiParameter.QUERY, required=False)],
        responses={204: None},
        description="Cached answers about the scenario's outputs are recomputed on their next read. "
        "tenant_id, when given, must be the caller's tenant (else 404). Needs admin:read.",
    )
    def post(self, request: Request, scenario_id: str) -> Response:
        tenant = request_context(request).tenant
        _check_tenant(request.query_params.get("tenant_id"), tenant)
        scenario_outputs_cache_invalidate(scenario=scenario_get(scenario_id=scenario_id), tenant=tenant)
        return Response(status=status.HTTP_204_NO_CONTENT)
