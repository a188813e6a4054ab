"""How the OpenAPI document (drf-spectacular) describes the API as a whole: v1 operations get tags
``v1 <resource>`` and operation ids ``v1_…`` beside v2's ``<resource>`` and ``…``; the v1 ``{meta, data}``
envelope, its paging parameters and the ``Idempotency-Key`` header, for views whose bodies are built by hand.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers

from aurum import original_paths
from aurum.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from aurum.api.idempotency import KEY_RE, REPLAYED_HEADER, idempotency_mode
from aurum.api.problems import PROBLEM_CONTENT_TYPE

V1_PREFIX = "/api/v1/"


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, with v1 operations tagged and named apart from v2's (the settings'
    ``SCHEMA_PATH_PREFIX`` strips both versions, so ``/api/v1/scenarios`` is ``scenarios`` before this)."""

    def get_tags(self) -> list[str]:
        tags = super().get_tags()
        return [f"v1 {tag}" for tag in tags] if self.path.startswith(V1_PREFIX) else tags

    def get_operation_id(self) -> str:
        operation_id = super().get_operation_id()
        return f"v1_{operation_id}" if self.path.startswith(V1_PREFIX) else operation_id

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        """Every operation the ``Idempotency-Key`` layer covers names the header and its 409 and 422
        (``aurum.api.idempotency``): added here, once, rather than on each view."""
        operation: dict[str, Any] | None = super().get_operation(*args, **kwargs)
        if (
            operation is None
            or idempotency_mode(type(self.view), path=self.path, method=self.method) == "off"
        ):
            return operation
        parameters = operation.setdefault("parameters", [])
        if not any(p.get("in") == "header" and p.get("name") == IDEMPOTENCY_HEADER for p in parameters):
            parameters.append(IDEMPOTENCY_PARAMETER)
        responses = operation.setdefault("responses", {})
        responses.setdefault("409", _problem(IN_FLIGHT_DESCRIPTION))
        responses.setdefault("422", _problem(KEY_REUSED_DESCRIPTION))
        return operation


class V1Meta(serializers.Serializer):
    """``meta`` of every v1 body (and of a v2 single object)."""

    request_id = serializers.CharField(help_text="also in the X-Request-Id header")
    query_time_ms = serializers.IntegerField(min_value=0)


class V1CountMeta(V1Meta):
    """``meta`` of a v1 list answered whole (no paging)."""

    count = serializers.IntegerField(min_value=0, help_text="items in data")


class V1PageMeta(V1Meta):
    """``meta`` of a v1 page: the cursors are signed and bound to the list and its filters."""

    has_more = serializers.BooleanField()
    count = serializers.IntegerField(min_value=0, help_text="items in data")
    offset = serializers.IntegerField(min_value=0)
    limit = serializers.IntegerField(min_value=1)
    next_cursor = serializers.CharField(required=False, help_text="present when has_more")
    prev_cursor = serializers.CharField(required=False, help_text="present after the first page")


def v1_envelope(name: str, data: serializers.Field, meta: serializers.Field | None = None) -> Any:
    """The component ``name``: ``{meta, data}`` (``meta`` a ``V1Meta`` unless given). Build each name once."""
    return inline_serializer(name=name, fields={"meta": meta or V1Meta(), "data": data})


def v1_page_parameters(default: int, maximum: int) -> list[OpenApiParameter]:
    """The v1 pager's query parameters (``aurum.api.paging.v1_page_request``)."""
    return [
        OpenApiParameter("limit", int, description=f"1-{maximum}, default {default}"),
        OpenApiParameter("cursor", str, description="meta.next_cursor of the previous page"),
        OpenApiParameter("since_cursor", str, description="another name for cursor"),
        OpenApiParameter("prev_cursor", str, description="meta.prev_cursor: the page before"),
        OpenApiParameter("offset", int, description="rows to skip (not with a cursor)"),
    ]


IDEMPOTENCY_KEY = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    str,
    OpenApiParameter.HEADER,
    description="1-255 characters of A-Z a-z 0-9 _ - . : /; a retry with the same key answers the same",
)


# The original Aurum's paths (/v1/..., /health, /ready and their aliases) reach the same views as /api/v1/
# and /health/*: the schema documents each view once, under Aurum's own paths.


def original_aliases_excluded(endpoints: list[tuple[Any, ...]], **kwargs: Any) -> list[tuple[Any, ...]]:
    """drf-spectacular preprocessing hook: leave out the original's alias paths."""
    return [
        endpoint
        for endpoint in endpoints
        if not endpoint[0].startswith(original_paths.V1_PREFIX)
        and endpoint[0] not in original_paths.PROBE_PATHS
    ]


IDEMPOTENCY_DESCRIPTION = (
    "1-255 characters of A-Z a-z 0-9 _ - . : /. A retry with the same key and the same request (method, "
    "path, query, body) within 24 hours answers what the first answered, with "
    f"`{REPLAYED_HEADER}: true`, and does nothing again. Keys are per credential (token, or a portal "
    "session's user) and tenant."
)
IDEMPOTENCY_PARAMETER = {
    "in": "header",
    "name": IDEMPOTENCY_HEADER,
    "required": False,
    "schema": {"type": "string", "pattern": KEY_RE.pattern, "maxLength": 255},
    "description": IDEMPOTENCY_DESCRIPTION,
}
IN_FLIGHT_DESCRIPTION = (
    "A request with this Idempotency-Key is still being processed (problem `idempotency-request-in-flight`); "
    "retry after `Retry-After` seconds."
)
KEY_REUSED_DESCRIPTION = (
    "The Idempotency-Key was used for a different request (problem `idempotency-key-reused`), or the request "
    "breaks a rule; use a new key for a new request."
)


def _problem(description: str) -> dict[str, Any]:
    """An RFC 7807 problem answer."""
    properties = {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
    }
    schema = {"type": "object", "properties": properties, "required": ["type", "title", "status", "detail"]}
    return {"description": description, "content": {PROBLEM_CONTENT_TYPE: {"schema": schema}}}
