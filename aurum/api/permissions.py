"""Permission classes: every tenant API view names the permission it needs.

Checks read the request's effective permissions (``RequestContext.permissions``: role ∩ token scopes),
never the role alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from aurum.api.context import request_context_or_none

if TYPE_CHECKING:
    pass


def request_permissions(request: Request) -> frozenset[str]:
    """What the caller may do in the current tenant: the token's scopes within its role, or the role's."""
    context = request_context_or_none(request)
    return context.permissions if context is not None else frozenset()


class IsTenantMember(BasePermission):
    """Authenticated, and a member of the tenant this request resolved to."""

    message = "Authentication with a member of this tenant is required."

    def has_permission(self, request: Request, view: Any) -> bool:
        return (
            request.user is not None
            and request.user.is_authenticated
            and request_context_or_none(request) is not None
        )


def Requires(permission: str) -> type[BasePermission]:  # noqa: N802 - reads like a declaration on a view
    """``permission_classes = [Requires("curves:read")]``."""

    class _Requires(IsTenantMember):
        message = f"This needs the permission '{permission}'."

        def has_permission(self, request: Request, view: Any) -> bool:
            return super().has_permission(request, view) and permission in request_permissions(request)

    _Requires.__name__ = f"Requires[{permission}]"
    return _Requires
