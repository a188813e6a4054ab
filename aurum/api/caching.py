"""No shared cache ever keeps a private answer.

Every response varies on the credential (``Vary: Authorization, Cookie, X-Aurum-Tenant``). A response to a
request that carries a credential or resolved a tenant is ``private``: a ``public`` directive is rewritten,
and a response that set no policy gets ``private, no-store`` (a token's secret, a scenario's outputs). The
views' own policy (``aurum.api.conditional.cache_control``) is already private; this middleware is the net
under it, for every view, error and redirect.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_vary_headers

VARY_ON = ("Authorization", "Cookie", "X-Aurum-Tenant")
DEFAULT_PRIVATE = "private, no-store"
_PUBLIC = re.compile(r"\bpublic\b", re.IGNORECASE)


def _private(request: HttpRequest) -> bool:
    if request.headers.get("Authorization") or request.headers.get("X-Aurum-Tenant"):
        return True
    if request.COOKIES:
        return True
    tenant = getattr(request, "tenant", None)
    if tenant is not None and getattr(tenant, "schema_name", "public") != "public":
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def private_cache_control(value: str | None) -> str:
    """``value`` made private: ``public`` becomes ``private``; no policy becomes ``private, no-store``."""
    if not value:
        return DEFAULT_PRIVATE
    if _PUBLIC.search(value):
        return _PUBLIC.sub("private", value)
    if "private" in value.lower() or "no-store" in value.lower():
        return value
    return f"private, {value}"


class PrivateCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if request.path.startswith(self.static_prefix):
            return response  # the same files for everyone (served by WhiteNoise)
        patch_vary_headers(response, VARY_ON)
        if _private(request):
            response["Cache-Control"] = private_cache_control(response.get("Cache-Control"))
        return response
