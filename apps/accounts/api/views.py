from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.api.serializers import TokenCreateInput, TokenOutput
from apps.accounts.selectors import api_token_get_for_credential, api_token_list
from apps.accounts.services import api_token_create_as, api_token_revoke_as
from aurum.api.context import request_context
from aurum.api.paging import page_slice, v2_page_request
from aurum.api.responses import object_response, v2_list_response
from aurum.api.views import ApiView

# A cursor of one list is refused by the other.
TOKEN_LIST_FILTERS = {"list": "tokens"}
PAGING_PARAMETERS = [
    OpenApiParameter("limit", int, description="1-100 (10)."),
    OpenApiParameter("cursor", str, description="`meta.next_cursor` / `meta.prev_cursor` of a page."),
]


class MeApi(ApiView):
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
                    "permissions": ["curves:read", "scenarios:read", "scenarios:run", "tokens:own"],
                    "auth": "token",
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        context = request_context(request)
        tenant = context.tenant
        return Response(
            {
                "email": context.user.email,
                "tenant": {
                    "id": tenant.pk,
                    "name": tenant.name,
                    "schema": tenant.schema_name,
                    "plan": tenant.plan.code,
                    "status": tenant.status,
                },
                "role": context.membership.role,
                "permissions": sorted(context.permissions),
                "auth": context.credential,
            }
        )


class TokenListCreateApi(ApiView):
    """The tokens the credential manages (its member's with ``tokens:own``, the tenant's with
    ``tokens:manage``); create one."""

    @extend_schema(responses=TokenOutput(many=True), parameters=PAGING_PARAMETERS)
    def get(self, request: Request) -> Response:
        page = v2_page_request(request, filters=TOKEN_LIST_FILTERS)
        rows, has_more = page_slice(api_token_list(credential=request_context(request)), page)
        return v2_list_response(
            request,
            list(TokenOutput(rows, many=True).data),
            page=page,
            has_more=has_more,
            filters=TOKEN_LIST_FILTERS,
        )

    @extend_schema(
        request=TokenCreateInput,
        responses={201: TokenOutput},
        description=(
            "The response carries the raw token in `data.token`, shown this once and never again. A token "
            "creating a token becomes its parent: the new token's scopes lie within the parent's, its expiry "
            "defaults to the parent's and may not be later, and revoking the parent revokes it."
        ),
    )
    def post(self, request: Request) -> Response:
        data = TokenCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        token, raw = api_token_create_as(
            credential=request_context(request),
            name=data.validated_data["name"],
            scopes=data.validated_data.get("scopes"),
            expires_at=data.validated_data.get("expires_at"),
            member_id=data.validated_data.get("member"),
        )
        return object_response(
            request,
            {**TokenOutput(token).data, "token": raw},
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v2/tokens/{token.pk}", "Cache-Control": "private, no-store"},
        )


class TokenDetailApi(ApiView):
    @extend_schema(responses=TokenOutput)
    def get(self, request: Request, token_id: int) -> Response:
        token = api_token_get_for_credential(credential=request_context(request), token_id=token_id)
        return object_response(request, TokenOutput(token).data)

    @extend_schema(
        responses={204: None},
        description="Revoke the token and every token created from it. Revoking twice is harmless.",
    )
    def delete(self, request: Request, token_id: int) -> Response:
        api_token_revoke_as(credential=request_context(request), token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
