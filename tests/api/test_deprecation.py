"""Every /api/v1/ response carries the deprecation headers; nothing else does."""

from __future__ import annotations

import asyncio

import pytest
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.test import RequestFactory

from aurum.api.deprecation import V1DeprecationMiddleware

V1_HEADERS = {
    "Deprecation": "true",
    "Sunset": "Wed, 31 Dec 2025 23:59:59 GMT",
    "Link": '</api/v2/docs/>; rel="deprecation"',
    "X-API-Version": "v1",
    "X-API-Lifecycle": "deprecated",
    "X-API-Migration-Guide": "/docs/api/v1-to-v2-migration/",
}


def view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


def _headers(response: HttpResponseBase) -> dict[str, str]:
    return dict(response.headers)


@pytest.mark.parametrize("path", ["/api/v1/curves", "/api/v1/", "/api/v1", "/api/v1/scenarios/1/runs"])
def test_v1_responses_carry_the_deprecation_headers(rf: RequestFactory, path: str) -> None:
    response = V1DeprecationMiddleware(view)(rf.get(path))

    assert isinstance(response, HttpResponse)
    headers = _headers(response)
    assert {name: headers[name] for name in V1_HEADERS} == V1_HEADERS
    assert headers["Warning"].startswith('299 - "')
    assert "deprecated" in headers["Warning"] and headers["Warning"].endswith('"')
    assert response.content == b"ok"


@pytest.mark.parametrize("path", ["/api/v2/curves", "/api/v10/curves", "/api/v1x", "/health/live", "/"])
def test_other_responses_are_untouched(rf: RequestFactory, path: str) -> None:
    response = V1DeprecationMiddleware(view)(rf.get(path))

    assert isinstance(response, HttpResponseBase)
    assert _headers(response) == {"Content-Type": "text/plain"}


def test_deprecation_link_is_appended_to_a_pagination_link(rf: RequestFactory) -> None:
    def paged(request: HttpRequest) -> HttpResponse:
        response = HttpResponse("ok")
        response["Link"] = '<http://testserver/api/v1/curves?cursor=n>; rel="next"'
        return response

    response = V1DeprecationMiddleware(paged)(rf.get("/api/v1/curves"))

    assert isinstance(response, HttpResponseBase)
    assert response["Link"] == (
        '<http://testserver/api/v1/curves?cursor=n>; rel="next", </api/v2/docs/>; rel="deprecation"'
    )


def test_error_responses_are_marked_too(rf: RequestFactory) -> None:
    response = V1DeprecationMiddleware(lambda request: HttpResponse(status=404))(rf.get("/api/v1/nope"))

    assert isinstance(response, HttpResponseBase)
    assert (response.status_code, response["Deprecation"]) == (404, "true")


def test_async_chain_stays_async(rf: RequestFactory) -> None:
    async def async_view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    middleware = V1DeprecationMiddleware(async_view)
    result = middleware(rf.get("/api/v1/curves"))

    assert asyncio.iscoroutine(result)
    response = asyncio.run(result)
    assert response["X-API-Version"] == "v1"
