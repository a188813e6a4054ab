from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.api.serializers import MemberOutput, TokenCreateInput, TokenOutput
from apps.accounts.models import ApiToken
from apps.accounts.selectors import api_token_get_for_member, api_token_list, membership_list
from apps.accounts.services import api_token_create, api_token_revoke
from aurum.api.permissions import Requires, request_permissions


def _as_drf_error(exc: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


class MeApi(APIView):
    """Who the caller is in the tenant this request resolved to."""

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "email": serializers.EmailField(),
                "tenant": serializers.DictField(),
                "role": serializers.CharField(),
                "permissions": serializers.ListField(child=serializers.CharField()),
                "auth": serializers.CharField(),
            },
        ),
        examples=[
            OpenApiExample(
                "Analyst with a token",
                value={
                    "email": "analyst@acme.example",
                    "tenant": {
                        "id": 1,
                        "name": "Acme Energy",
                        "schema": "acme",
                        "plan": "enterprise",
                        "status": "active",
                    },
                    "role": "analyst",
                    "permissions": ["curves:read", "scenarios:read", "scenarios:run"],
                    "auth": "token",
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        membership = request._request.aurum_membership  # type: ignore[attr-defined]
        tenant = membership.tenant
        return Response(
            {
                "email": membership.user.email,
                "tenant": {
                    "id": tenant.pk,
                    "name": tenant.name,
                    "schema": tenant.schema_name,
                    "plan": tenant.plan.code,
                    "status": tenant.status,
                },
                "role": membership.role,
                "permissions": sorted(request_permissions(request)),
                "auth": "token" if isinstance(request.auth, ApiToken) else "session",
            }
        )


class TokenListCreateApi(APIView):
    """The caller's API tokens (all of the tenant's for those with ``tokens:manage``); create one."""

    @extend_schema(responses=TokenOutput(many=True))
    def get(self, request: Request) -> Response:
        membership = request._request.aurum_membership  # type: ignore[attr-defined]
        return Response(TokenOutput(api_token_list(membership=membership), many=True).data)

    @extend_schema(
        request=TokenCreateInput,
        responses={201: TokenOutput},
        description="The response carries the raw token in `token`, shown this once and never again.",
    )
    def post(self, request: Request) -> Response:
        data = TokenCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        membership = request._request.aurum_membership  # type: ignore[attr-defined]
        scopes = data.validated_data.get("scopes")
        if isinstance(request.auth, ApiToken) and scopes is None:
            scopes = sorted(request.auth.permissions)  # a token can only mint tokens within its own scopes
        beyond = set(scopes or ()) - request.auth.permissions if isinstance(request.auth, ApiToken) else set()
        if beyond:
            raise serializers.ValidationError(
                {"scopes": f"This credential cannot grant: {', '.join(sorted(beyond))}."}
            )
        try:
            token, raw = api_token_create(
                membership=membership,
                name=data.validated_data["name"],
                scopes=scopes,
                expires_at=data.validated_data.get("expires_at"),
                created_by=membership.user,
            )
        except DjangoValidationError as exc:
            raise _as_drf_error(exc) from exc
        return Response({**TokenOutput(token).data, "token": raw}, status=status.HTTP_201_CREATED)


class TokenDetailApi(APIView):
    @extend_schema(responses=TokenOutput)
    def get(self, request: Request, token_id: int) -> Response:
        membership = request._request.aurum_membership  # type: ignore[attr-defined]
        return Response(TokenOutput(api_token_get_for_member(membership=membership, token_id=token_id)).data)

    @extend_schema(responses={204: None}, description="Revoke the token. Revoking twice is harmless.")
    def delete(self, request: Request, token_id: int) -> Response:
        membership = request._request.aurum_membership  # type: ignore[attr-defined]
        api_token_revoke(token=api_token_get_for_member(membership=membership, token_id=token_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberListApi(APIView):
    permission_classes = [Requires("admin:read")]

    @extend_schema(responses=MemberOutput(many=True))
    def get(self, request: Request) -> Response:
        tenant = request._request.aurum_membership.tenant  # type: ignore[attr-defined]
        return Response(MemberOutput(membership_list(tenant=tenant), many=True).data)
