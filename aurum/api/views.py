"""Base views shared by the tenant APIs (kept out of ``permissions``, which DRF's settings import early)."""

from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from aurum.api.idempotency import IdempotentPostMixin
from aurum.api.permissions import Requires


class ApiView(IdempotentPostMixin, APIView):
    """The base of every tenant API view: DRF's APIView with ``Idempotency-Key`` on its v2 POSTs
    (``aurum.api.idempotency``; a view opts out with ``idempotency = "off"`` and a line in
    tests/platform/test_idempotency_routes.py saying why)."""


class PermissionByMethodView(ApiView):
    """A view whose methods need different permissions: ``needs = {"GET": "scenarios:read", ...}``.

    HEAD needs what GET needs; OPTIONS, and any method not listed, need what GET needs, else the first listed
    permission, else ``default_need`` — never an error (Django adds HEAD to every GET view, DRF answers
    OPTIONS).
    """

    needs: Mapping[str, str] = {}
    default_need = ""

    def get_permissions(self) -> list[BasePermission]:
        method = (self.request.method or "GET").upper()
        fallback = self.needs.get("GET") or next(iter(self.needs.values()), self.default_need)
        if not fallback:
            raise ImproperlyConfigured(f"{type(self).__name__} names no permission (needs / default_need)")
        need = self.needs.get("GET" if method == "HEAD" else method, fallback)
        return [Requires(need)()]
