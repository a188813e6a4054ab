"""RFC 7807 problem details for every API error (and for the tenant middleware's refusals)."""

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from aurum.observability.context import current_request_id

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "https://aurum.dev/problems/"


def problem_body(
    *, status_code: int, title: str, detail: str, instance: str = "", slug: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (slug or title.lower().replace(" ", "-")),
        "title": title,
        "status": status_code,
        "detail": detail,
        "instance": instance,
        "request_id": current_request_id(),
        "timestamp": timezone.now().isoformat(),
    }
    body.update(extra)
    return body


def problem_response(
    request: HttpRequest, *, status_code: int, title: str, detail: str, slug: str | None = None, **extra: Any
) -> JsonResponse:
    body = problem_body(
        status_code=status_code, title=title, detail=detail, instance=request.path, slug=slug, **extra
    )
    response = JsonResponse(body, status=status_code, content_type=PROBLEM_CONTENT_TYPE)
    if status_code == status.HTTP_401_UNAUTHORIZED:
        response["WWW-Authenticate"] = 'Bearer realm="aurum"'
    return response


def _field_errors(detail: Any, path: str = "") -> list[dict[str, Any]]:
    if isinstance(detail, dict):
        out: list[dict[str, Any]] = []
        for key, value in detail.items():
            out.extend(_field_errors(value, f"{path}.{key}" if path else str(key)))
        return out
    if isinstance(detail, list):
        out = []
        for item in detail:
            out.extend(_field_errors(item, path))
        return out
    code = getattr(detail, "code", "invalid")
    return [{"field": path or None, "message": str(detail), "code": code}]


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = exception_handler(exc, context)
    if response is None:
        return None
    request = context["request"]
    title = response.status_text
    extra: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(exc.detail)
        detail = "The request is not valid; see errors."
        if len(errors) == 1:  # one problem: say it in detail too
            field, message = errors[0]["field"], errors[0]["message"]
            detail = message if field in (None, "detail", "non_field_errors") else f"{field}: {message}"
        extra["errors"] = errors
    else:
        detail = str(getattr(exc, "detail", exc))
    response.data = problem_body(
        status_code=response.status_code,
        title=title,
        detail=detail,
        instance=request.path,
        slug=getattr(exc, "default_code", None),
        **extra,
    )
    response.content_type = PROBLEM_CONTENT_TYPE
    return response
