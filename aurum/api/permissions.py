"""Permission classes: every tenant API view names the permission it needs."""

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.accounts.models import ApiToken, Membership


def request_permissions(request: Request) -> frozenset[str]:
    """What the caller may do in the current tenant: the token's scopes within its role, or the role's."""
    if isinstance(request.auth, ApiToken):
        return request.auth.permissions
    membership = getattr(request._request, "aurum_membership", None)
    return membership.permissions if membership is not None else frozenset()


class IsTenantMember(BasePermission):
    """Authenticated, and a member of the tenant this request resolved to."""

    message = "Authentication with a member of this tenant is required."

    def has_permission(self, request: Request, view: Any) -> bool:
        return (
            request.user is not None
            and request.user.is_authenticated
            and getattr(request._request, "aurum_membership", None) is not None
        )


def Requires(permission: str) -> type[BasePermission]:  # noqa: N802 - reads like a declaration on a view
    """``permission_classes = [Requires("curves:read")]``."""

    class _Requires(IsTenantMember):
        message = f"This needs the permission '{permission}'."

        def has_permission(self, request: Request, view: Any) -> bool:
            return super().has_permission(request, view) and permission in request_permissions(request)

    _Requires.__name__ = f"Requires[{permission}]"
    return _Requires


def request_membership(request: Request) -> Membership:
    """The membership the tenant middleware resolved for this request (the views' permissions ensure one)."""
    return request._request.aurum_membership  # type: ignore[attr-defined,no-any-return]
