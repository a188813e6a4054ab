"""Request id (honoured or generated, echoed on every response) and the access log line."""

import re
import time
import uuid
from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse

from aurum.observability.context import context_bind, context_clear

REQUEST_ID_HEADER = "X-Request-Id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
access_log = structlog.get_logger("aurum.access")


def request_elapsed_ms(request: HttpRequest) -> float:
    """Milliseconds since this middleware saw the request (0 outside a request)."""
    started = getattr(request, "aurum_started", None)
    return 0.0 if started is None else (time.perf_counter() - started) * 1000


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        context_clear()
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        context_bind(request_id=request_id)
        started = time.perf_counter()
        request.aurum_started = started  # type: ignore[attr-defined]  # for meta.query_time_ms
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        if not request.path.startswith(("/health/", "/metrics")):
            access_log.info(
                "request",
                method=request.method,
                path=request.path,
                status=response.status_code,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
        context_clear()
        return response
