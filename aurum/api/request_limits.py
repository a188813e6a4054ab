"""A bound on the query string, before anything parses it.

Django caps the parameters (``DATA_UPLOAD_MAX_NUMBER_FIELDS``) but not their length: a 100 KB query of
one parameter would be read, logged and ignored (or validated) by every view. gunicorn refuses request lines
over 4 KB in production with a plain-text 400 of its own; this answers the same request, wherever Aurum is
served from, with a problem.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from aurum.api.problems import problem_response


class QueryStringLimitMiddleware:
    """A query string over ``AURUM_MAX_QUERY_STRING_BYTES`` is a 414 problem."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        size = len(request.META.get("QUERY_STRING", ""))
        limit: int = settings.AURUM_MAX_QUERY_STRING_BYTES
        if size > limit:
            return problem_response(
                request,
                status_code=414,
                title="URI Too Long",
                detail=f"The query string is {size:,} bytes; the limit is {limit:,}.",
                slug="query-too-long",
                limit_bytes=limit,
            )
        return self.get_response(request)
