"""DRF authentication. The tenant middleware has already resolved the credential; these read its result."""

from typing import Any

from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.request import Request

from aurum.api.context import request_context_or_none


class ApiTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer aurum_…``: the token the middleware resolved (and checked) for this request."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        context = request_context_or_none(request)
        if context is None or context.token is None:
            return None
        return context.user, context.token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="aurum"'


class JwtBearerAuthentication(BaseAuthentication):
    """``Authorization: Bearer <JWT of the tenant's issuer>`` on the v1 API, as the middleware verified it
    (``apps.accounts.sso.bearer``); the claims are the DRF ``auth``."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        context = request_context_or_none(request)
        if context is None or context.jwt_claims is None:
            return None
        return context.user, context.jwt_claims

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="aurum"'


class TenantSessionAuthentication(SessionAuthentication):
    """A logged-in portal user; only counts when the middleware found their membership in the tenant."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        context = request_context_or_none(request)
        if context is None or context.token is not None or context.jwt_claims is not None:
            return None
        return super().authenticate(request)
