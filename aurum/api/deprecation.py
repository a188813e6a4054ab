"""Deprecation headers on every v1 response (``/api/v1/`` and the original's ``/v1/``; spec 3.1): v1 is
sunset at the end of 2025."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from aurum import original_paths

V1_PREFIX = "/api/v1/"
V2_DOCS_PATH = "/api/v2/docs/"
MIGRATION_GUIDE_PATH = "/docs/api/v1-to-v2-migration/"
SUNSET = "Wed, 31 Dec 2025 23:59:59 GMT"
WARNING = (
    f'299 - "API v1 is deprecated and will be removed after {SUNSET}; '
    f'migrate to /api/v2/ (see {MIGRATION_GUIDE_PATH})"'
)

# The spec's literal ``Deprecation: true`` (the pre-RFC 9745 draft form) is what v1 clients already parse.
V1_DEPRECATION_HEADERS = {
    "Deprecation": "true",
    "Sunset": SUNSET,
    "Warning": WARNING,
    "X-API-Version": "v1",
    "X-API-Lifecycle": "deprecated",
    "X-API-Migration-Guide": MIGRATION_GUIDE_PATH,
}


def is_v1_path(path: str) -> bool:
    return path.startswith((V1_PREFIX, original_paths.V1_PREFIX)) or path in (
        V1_PREFIX.rstrip("/"),
        original_paths.V1_PREFIX.rstrip("/"),
    )


def add_v1_deprecation_headers(response: HttpResponseBase) -> None:
    for name, value in V1_DEPRECATION_HEADERS.items():
        response[name] = value
    # A relative reference (RFC 8288 resolves it against the request URI) avoids Host validation here.
    deprecation_link = f'<{V2_DOCS_PATH}>; rel="deprecation"'
    existing = response.get("Link")
    response["Link"] = f"{existing}, {deprecation_link}" if existing else deprecation_link


class V1DeprecationMiddleware:
    """Adds the v1 deprecation headers; the deprecation ``Link`` is appended to any Link the view set.

    Sync and async capable, so it costs no thread hop under ASGI.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self._acall(request)
        response: HttpResponseBase = self.get_response(request)
        if is_v1_path(request.path):
            add_v1_deprecation_headers(response)
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        response: HttpResponseBase = await self.get_response(request)
        if is_v1_path(request.path):
            add_v1_deprecation_headers(response)
        return response
