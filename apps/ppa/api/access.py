"""Who may do what with PPA contracts (spec 3.1 RBAC; docs/decisions/0011-ppa-contracts.md), and the
request's membership."""

from __future__ import annotations

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.accounts.models import Membership
from aurum.api.permissions import Requires

READ = "scenarios:read"  # list and read contracts and valuations: every role
WRITE = "scenarios:write"  # create and change contracts: traders and admins
DELETE = "scenarios:delete"  # delete contracts (with their valuations): traders and admins
RUN = "scenarios:run"  # value a contract: analysts, traders and admins


def request_membership(request: Request) -> Membership:
    return request._request.aurum_membership  # type: ignore[attr-defined,no-any-return]


class PpaApi(APIView):
    """A PPA view names the permission each of its methods needs."""

    permissions_by_method: dict[str, str] = {}

    def get_permissions(self) -> list[BasePermission]:
        return [Requires(self.permissions_by_method[self.request.method or "GET"])()]
