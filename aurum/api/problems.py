"""RFC 7807 problem details: one mapping for every error an API request can end in.

- ``aurum.errors.AurumError`` (what services and selectors raise) keeps its status, title, slug and issues;
- DRF's exceptions (authentication, permission, parsing, serializer validation, throttling) keep theirs;
- a dependency that is down (Postgres, Redis, the Celery broker: ``UNAVAILABLE_ERRORS``) is a 503 problem
  with ``Retry-After``, logged as a warning without a traceback: a client retries, nothing is broken;
- anything else is a 500 problem carrying the request id, never a traceback; it is logged with one.

DRF views reach this through ``problem_exception_handler``; errors outside DRF (an unknown ``/api/`` path,
a middleware failure, a CSRF or Host refusal) through the handlers below (``handler400`` to ``handler500``,
``CSRF_FAILURE_VIEW``).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import kombu.exceptions
import redis
import structlog
from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from aurum.errors import AurumError, InvalidInputError, Issue, PayloadTooLargeError, UnavailableError
from aurum.observability.context import current_request_id

log = structlog.get_logger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "https://aurum.dev/problems/"
API_PREFIXES = ("/api/", "/v1/", "/health/")
SERVER_ERROR_DETAIL = (
    "The server failed to answer this request. It has been logged; quote the request id if it persists."
)
# A dependency unreachable or too slow right now (the database restarting, Redis or the broker down): the
# request may work when retried, so it is a 503, not a 500 (docs/operations.md, decision 0043).
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    redis.ConnectionError,
    redis.TimeoutError,
    kombu.exceptions.OperationalError,
)
UNAVAILABLE_DETAIL = "A service Aurum depends on is unavailable right now; retry in a few seconds."
UNAVAILABLE_RETRY_AFTER_SECONDS = 5


def unavailable_error(exc: BaseException, *, path: str) -> UnavailableError:
    """The 503 for a dependency error (logged here, without the exception's text in the answer)."""
    log.warning("dependency unavailable", path=path, error=type(exc).__name__, reason=str(exc)[:300])
    return UnavailableError(UNAVAILABLE_DETAIL, headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER_SECONDS)})


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


def error_body(error: AurumError, *, instance: str) -> dict[str, Any]:
    """The problem body of a project error (``errors`` lists its issues, when it has any)."""
    extra = dict(error.extra)
    if error.issues:
        extra["errors"] = [issue.as_dict() for issue in error.issues]
    return problem_body(
        status_code=error.status,
        title=error.title,
        detail=error.detail,
        instance=instance,
        slug=error.slug,
        **extra,
    )


def error_response(request: HttpRequest, error: AurumError) -> JsonResponse:
    response = JsonResponse(
        error_body(error, instance=request.path), status=error.status, content_type=PROBLEM_CONTENT_TYPE
    )
    for name, value in error.headers.items():
        response[name] = value
    if error.status == status.HTTP_401_UNAUTHORIZED:
        response.setdefault("WWW-Authenticate", 'Bearer realm="aurum"')
    return response


def _issues(detail: Any, path: str = "") -> list[Issue]:
    """DRF's nested validation detail as flat issues with dotted field paths."""
    if isinstance(detail, dict):
        out: list[Issue] = []
        for key, value in detail.items():
            out.extend(_issues(value, f"{path}.{key}" if path else str(key)))
        return out
    if isinstance(detail, list):
        return [issue for item in detail for issue in _issues(item, path)]
    field = path if path not in ("", "detail", "non_field_errors") else None
    return [Issue(field, str(detail), str(getattr(detail, "code", "invalid")))]


def _status_title(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


def _framework_error(exc: Exception, response: Response) -> AurumError:
    """A DRF exception (or Http404 / PermissionDenied, which DRF maps) as ours, with DRF's status."""
    code = response.status_code
    slug = str(getattr(exc, "default_code", "") or _status_title(code).lower().replace(" ", "-"))
    if isinstance(exc, exceptions.ValidationError):
        return InvalidInputError.of(*_issues(exc.detail), slug=slug, status=code)
    detail = getattr(exc, "detail", None)
    text = str(detail) if isinstance(detail, str) else str(response.data.get("detail", exc))
    return AurumError(text, slug=slug, status=code, title=_status_title(code))


def _refused_request(exc: SuspiciousOperation) -> AurumError:
    """Django's refusals of a request it will not read (raised when a view first touches the body or the
    query), as problems instead of unhandled errors."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return PayloadTooLargeError(
            f"The request body is larger than the {limit:,}-byte limit.", limit_bytes=limit
        )
    if isinstance(exc, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return InvalidInputError(
            f"The request has more than {limit:,} query parameters or form fields.", slug="too-many-fields"
        )
    if isinstance(exc, TooManyFilesSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return InvalidInputError(f"The request has more than {limit:,} files.", slug="too-many-files")
    return InvalidInputError("The request could not be understood.", slug="bad-request")


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every exception a view raises becomes a problem response."""
    request = context["request"]
    headers: dict[str, str] = {}
    if isinstance(exc, AurumError):
        error = exc
        set_rollback()
    elif isinstance(exc, SuspiciousOperation):
        error = _refused_request(exc)
        set_rollback()
    elif isinstance(exc, UNAVAILABLE_ERRORS):
        error = unavailable_error(exc, path=request.path)
        set_rollback()
    else:
        drf = exception_handler(exc, context)  # APIException, Http404, PermissionDenied; sets rollback
        if drf is not None:
            error = _framework_error(exc, drf)
            headers = {k: v for k, v in drf.items() if k in ("WWW-Authenticate", "Retry-After", "Allow")}
        else:
            set_rollback()
            log.exception("unhandled error in an API view", path=request.path, error=type(exc).__name__)
            error = AurumError(SERVER_ERROR_DETAIL)
    response = Response(
        error_body(error, instance=request.path), status=error.status, content_type=PROBLEM_CONTENT_TYPE
    )
    for name, value in {**headers, **error.headers}.items():
        response[name] = value
    if error.status == status.HTTP_401_UNAUTHORIZED and "WWW-Authenticate" not in response:
        response["WWW-Authenticate"] = 'Bearer realm="aurum"'
    return response


# --- outside DRF: Django's handler404 / handler500 ---------------------------------------------------------


def _wants_problem(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIXES) or "json" in request.headers.get("Accept", "")


def api_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler404``: a problem for API paths, the portal's error page for the rest."""
    if _wants_problem(request):
        return problem_response(
            request, status_code=404, title="Not Found", detail=f"No resource at '{request.path}'."
        )
    return HttpResponse(loader.render_to_string("404.html", request=request), status=404)


def api_server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: an unhandled error outside a DRF view (a middleware resolving the tenant, a portal
    view). No exception text reaches the caller. A dependency that is down is a 503 (called while Django
    handles the exception, so ``sys.exc_info`` holds it)."""
    exc = sys.exc_info()[1]
    if exc is not None and isinstance(exc, UNAVAILABLE_ERRORS):
        error = unavailable_error(exc, path=request.path)
        if _wants_problem(request):
            return error_response(request, error)
        page = HttpResponse(loader.render_to_string("503.html"), status=503)
        page["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER_SECONDS)
        return page
    if _wants_problem(request):
        return problem_response(
            request,
            status_code=500,
            title="Internal Server Error",
            detail=SERVER_ERROR_DETAIL,
            slug="internal-error",
        )
    # No request context in the template: whatever broke may break it again.
    return HttpResponse(loader.render_to_string("500.html", {"request_id": current_request_id()}), status=500)


def api_bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler400``: a request Django refused before any view (a Host not allowed, a malformed body)."""
    if _wants_problem(request):
        return problem_response(
            request, status_code=400, title="Bad Request", detail="The request could not be understood."
        )
    return HttpResponse(loader.render_to_string("400.html"), status=400)


def api_forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler403``: a ``PermissionDenied`` raised outside DRF."""
    if _wants_problem(request):
        return problem_response(
            request, status_code=403, title="Forbidden", detail="You may not do this here."
        )
    return HttpResponse(loader.render_to_string("403.html", request=request), status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: an unsafe request without its CSRF token (a form post from elsewhere)."""
    if _wants_problem(request):
        return problem_response(
            request,
            status_code=403,
            title="Forbidden",
            detail="CSRF check failed: send the form's CSRF token, or use a bearer token for the API.",
            slug="csrf-failed",
        )
    return HttpResponse(loader.render_to_string("403.html", request=request), status=403)


def safe_methods_only(view: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """A plain (non-DRF) read-only view: GET and HEAD; any other method is a 405 problem, CSRF aside."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            response = problem_response(
                request,
                status_code=405,
                title="Method Not Allowed",
                detail=f"{request.method} is not allowed here; use GET.",
            )
            response["Allow"] = "GET, HEAD"
            return response
        return view(request)

    return csrf_exempt(wrapped)
