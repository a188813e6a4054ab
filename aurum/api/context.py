"""The request's context: who is asking, in which tenant, with which credential and what they may do.

The tenancy middleware (``aurum.tenancy.middleware``) resolves the credential and builds one
``RequestContext`` per request; views read it with ``request_context(request)`` instead of poking at
request attributes. ``permissions`` are the *effective* permissions: the membership's role intersected with
the token's scopes for a token, the role's for a portal session. Every permission check reads them, never
the role alone: a read-only token of an admin is read-only.

aurum/api imports no domain app at run time; the account models are named for type checking only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from django.http import HttpRequest
from rest_framework.request import Request

from aurum.errors import ForbiddenError, UnauthenticatedError

if TYPE_CHECKING:
    from apps.accounts.models import ApiToken, Membership, User
    from tenants.models import Tenant

CONTEXT_ATTRIBUTE = "aurum_context"


@dataclass(frozen=True)
class RequestContext:
    tenant: Tenant
    membership: Membership
    permissions: frozenset[str]
    token: ApiToken | None  # the bearer token, or None for a portal session or a JWT
    # The verified claims of a bearer JWT of the tenant's issuer (v1 API only; decision 0032), else None.
    jwt_claims: Mapping[str, Any] | None = None

    @property
    def user(self) -> User:
        return self.membership.user

    @property
    def credential(self) -> Literal["token", "jwt", "session"]:
        if self.token is not None:
            return "token"
        return "jwt" if self.jwt_claims is not None else "session"

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        """Raise ForbiddenError unless the credential carries ``permission``."""
        if permission not in self.permissions:
            raise ForbiddenError(f"This needs the permission '{permission}'.", slug="permission-denied")


def _django_request(request: HttpRequest | Request) -> HttpRequest:
    return request._request if isinstance(request, Request) else request


def request_context_or_none(request: HttpRequest | Request) -> RequestContext | None:
    context = getattr(_django_request(request), CONTEXT_ATTRIBUTE, None)
    return context if isinstance(context, RequestContext) else None


def request_context(request: HttpRequest | Request) -> RequestContext:
    """The context of a request made by a member of the resolved tenant; 401 problem otherwise."""
    context = request_context_or_none(request)
    if context is None:
        raise UnauthenticatedError("Authentication with a member of this tenant is required.")
    return context


def request_context_set(request: HttpRequest, context: RequestContext | None) -> None:
    setattr(request, CONTEXT_ATTRIBUTE, context)
