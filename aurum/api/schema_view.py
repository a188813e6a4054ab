"""``/api/v2/schema/``: the OpenAPI document, generated once per process and API version, and rendered once
per format (YAML, JSON).

Generating it walks every route, view and serializer: 1.7 s a request on a fresh gunicorn worker, 6.2 s for
the first (bench/startup.py, shared machine); rendering the YAML took seconds more. The document depends only
on the code and the settings the process runs with, so each process generates it once, in its start-up
warm-up (aurum/warmup.py), and keeps each rendering; a settings change (tests' ``override_settings``) forgets
them.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.views import SpectacularAPIView
from rest_framework.request import Request
from rest_framework.response import Response

_lock = threading.Lock()
_documents: dict[str | None, dict[str, Any]] = {}
_renderings: dict[tuple[str | None, str], bytes] = {}


def openapi_document(version: str | None = None) -> dict[str, Any]:
    """The public OpenAPI document of the root URLconf for ``version`` (None: the default)."""
    with _lock:
        document = _documents.get(version)
        if document is None:
            document = SchemaGenerator(api_version=version).get_schema(request=None, public=True)
            _documents[version] = document
        return document


@receiver(setting_changed)
def _forget_documents(**_: Any) -> None:
    with _lock:
        _documents.clear()
        _renderings.clear()


class OpenApiSchemaView(SpectacularAPIView):
    """drf-spectacular's schema view (content negotiation: JSON or YAML), serving the kept rendering of the
    kept document."""

    def _get_schema_response(self, request: Request) -> Response:  # type: ignore[override]
        version = self.api_version or request.version or self._get_version_parameter(request)
        renderer, media_type = request.accepted_renderer, request.accepted_media_type
        key = (version, media_type)
        body = _renderings.get(key)
        if body is None:
            rendered = renderer.render(openapi_document(version), media_type, self.get_renderer_context())
            body = rendered.encode() if isinstance(rendered, str) else rendered
            with _lock:
                _renderings[key] = body
        charset = getattr(renderer, "charset", None)
        content_type = f"{media_type}; charset={charset}" if charset else media_type
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'inline; filename="{self._get_filename(request, version)}"'
        return response  # type: ignore[return-value]
