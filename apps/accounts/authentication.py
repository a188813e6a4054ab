"""DRF authentication. The tenant middleware has already resolved the credential; these read its result."""

from typing import Any

from django.http import HttpRequest
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.request import Request


class ApiTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer aurum_…``: the token the middleware resolved (and checked) for this request."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        django_request: HttpRequest = request._request
        token = getattr(django_request, "aurum_token", None)
        if token is None:
            return None
        return token.membership.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="aurum"'


class TenantSessionAuthentication(SessionAuthentication):
    """A logged-in portal user; only counts when the middleware found their membership in the tenant."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        if getattr(request._request, "aurum_membership", None) is None:
            return None
        return super().authenticate(request)
