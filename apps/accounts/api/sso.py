"""``GET/PUT /api/v2/sso``: the tenant's single sign-on configuration (docs/sso.md), for admins
(``members:manage``). The client secret is write-only: answers say only whether one is stored."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import TenantSsoConfig
from apps.accounts.roles import MEMBERS_MANAGE, Role
from apps.accounts.sso.claims import MAX_MAPPINGS
from apps.accounts.sso.selectors import sso_config_get
from apps.accounts.sso.services import sso_config_save
from aurum.api.context import request_context
from aurum.api.responses import object_response
from aurum.api.views import PermissionByMethodView

NEEDS = f"Needs `{MEMBERS_MANAGE}` (admins)."
SSO_EXAMPLE = {
    "configured": True,
    "is_enabled": True,
    "issuer": "https://login.acme.example/realms/acme",
    "client_id": "aurum-portal",
    "client_secret_set": True,
    "scopes": "openid email profile",
    "role_claim": "groups",
    "role_mapping": {"aurum-admins": "admin", "aurum-traders": "trader"},
    "default_role": "viewer",
    "jit_provisioning": True,
    "sso_only": False,
    "provider_logout": True,
    "button_label": "Sign in with Acme ID",
    "jwt_enabled": True,
    "jwt_audience": "",
    "updated": "2026-12-02T10:00:00Z",
}


class SsoOutput(serializers.Serializer):  # type: ignore[type-arg]
    configured = serializers.BooleanField()
    is_enabled = serializers.BooleanField()
    issuer = serializers.CharField()
    client_id = serializers.CharField()
    client_secret_set = serializers.BooleanField()
    scopes = serializers.CharField()
    role_claim = serializers.CharField()
    role_mapping = serializers.DictField(child=serializers.CharField())
    default_role = serializers.CharField()
    jit_provisioning = serializers.BooleanField()
    sso_only = serializers.BooleanField()
    provider_logout = serializers.BooleanField()
    button_label = serializers.CharField()
    jwt_enabled = serializers.BooleanField()
    jwt_audience = serializers.CharField()
    updated = serializers.DateTimeField(allow_null=True)


class SsoInput(serializers.Serializer):  # type: ignore[type-arg]
    """Fields left out keep their value; ``client_secret`` left out keeps the stored secret."""

    is_enabled = serializers.BooleanField(required=False)
    issuer = serializers.CharField(required=False, max_length=500)
    client_id = serializers.CharField(required=False, max_length=255)
    client_secret = serializers.CharField(required=False, max_length=2000, write_only=True)
    scopes = serializers.CharField(required=False, max_length=500)
    role_claim = serializers.CharField(required=False, max_length=100)
    role_mapping = serializers.DictField(
        required=False, child=serializers.ChoiceField(choices=Role.values), allow_empty=True
    )
    default_role = serializers.ChoiceField(required=False, choices=["", *Role.values])
    jit_provisioning = serializers.BooleanField(required=False)
    sso_only = serializers.BooleanField(required=False)
    provider_logout = serializers.BooleanField(required=False)
    button_label = serializers.CharField(required=False, allow_blank=True, max_length=80)
    jwt_enabled = serializers.BooleanField(required=False)
    jwt_audience = serializers.CharField(required=False, allow_blank=True, max_length=255)

    def validate_role_mapping(self, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_MAPPINGS or any(len(key) > 200 for key in value):
            raise serializers.ValidationError(f"At most {MAX_MAPPINGS} claim values of 200 characters.")
        return value


def _output(config: TenantSsoConfig | None) -> dict[str, Any]:
    fresh = TenantSsoConfig()
    source = config or fresh
    names = [str(name) for name in SsoOutput().fields if name not in ("configured", "client_secret_set")]
    body: dict[str, Any] = {name: getattr(source, name) for name in names}
    body.update(configured=config is not None, client_secret_set=bool(config and config.client_secret))
    body["updated"] = config.updated if config else None
    return dict(SsoOutput(body).data)


class SsoV2Api(PermissionByMethodView):
    needs = {"GET": MEMBERS_MANAGE, "PUT": MEMBERS_MANAGE}

    @extend_schema(
        operation_id="sso_retrieve",
        responses=SsoOutput,
        description="The tenant's single sign-on (OpenID Connect) configuration; `configured: false` with "
        f"the defaults when there is none. The client secret is never shown. {NEEDS}",
        examples=[OpenApiExample("Configured", value={"data": SSO_EXAMPLE}, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        config = sso_config_get(tenant=request_context(request).tenant)
        return object_response(request, _output(config), headers={"Cache-Control": "private, no-store"})

    @extend_schema(
        operation_id="sso_update",
        request=SsoInput,
        responses=SsoOutput,
        description="Create or change the configuration; fields left out keep their value (`client_secret` "
        "too). The issuer must be https; `role_mapping` maps claim values to roles. Audited without the "
        f"secret. {NEEDS}",
        examples=[
            OpenApiExample(
                "Keycloak",
                value={
                    "is_enabled": True,
                    "issuer": "https://login.acme.example/realms/acme",
                    "client_id": "aurum-portal",
                    "client_secret": "from-the-provider",
                    "role_mapping": {"aurum-admins": "admin"},
                    "default_role": "viewer",
                },
                request_only=True,
            )
        ],
    )
    def put(self, request: Request) -> Response:
        data = SsoInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        secret = values.pop("client_secret", None)
        config = sso_config_save(tenant=request_context(request).tenant, values=values, client_secret=secret)
        return object_response(request, _output(config), headers={"Cache-Control": "private, no-store"})
