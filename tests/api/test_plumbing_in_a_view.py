"""The pieces together inside a DRF view: cursor errors become RFC 7807 400s; 200 / 304 / 412 render."""

from __future__ import annotations

import json
from typing import Any

from django.test import RequestFactory
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aurum.api.conditional import cached_response, etag_for
from aurum.api.cursors import cursor_decode, v1_paging_params
from aurum.api.envelope import envelope

DATA = [{"curve_key": "PJM_WEST", "mid": 41.25}]


class CurveListStub(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []

    def get(self, request: Request) -> Response:
        paging = v1_paging_params(request.query_params)
        if paging.cursor:
            cursor_decode(paging.cursor, filters={"iso": request.query_params.get("iso")})
        return cached_response(request, envelope(DATA, query_time_ms=1.0), ttl=120)


view = CurveListStub.as_view()


def test_bad_cursor_is_a_problem_400(rf: RequestFactory) -> None:
    response = view(rf.get("/api/v1/curves", {"cursor": "garbage!"}))
    response.render()

    body = json.loads(response.content)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert (body["type"], body["title"], body["detail"]) == (
        "https://aurum.dev/problems/invalid-cursor",
        "Bad Request",
        "Invalid cursor",
    )


def test_conflicting_paging_params_are_a_problem_400(rf: RequestFactory) -> None:
    response = view(rf.get("/api/v1/curves", {"cursor": "a", "offset": "1"}))
    response.render()

    assert response.status_code == 400
    assert (
        json.loads(response.content)["detail"]
        == "offset cannot be combined with a cursor; use the cursor alone"
    )


def test_full_then_not_modified_then_precondition_failed(rf: RequestFactory) -> None:
    etag = etag_for({"data": DATA})

    full = view(rf.get("/api/v1/curves"))
    full.render()
    assert (full.status_code, full["ETag"]) == (200, etag)
    assert json.loads(full.content)["data"] == DATA

    not_modified = view(rf.get("/api/v1/curves", HTTP_IF_NONE_MATCH=etag))
    not_modified.render()
    assert (not_modified.status_code, not_modified.content, not_modified["ETag"]) == (304, b"", etag)

    failed = view(rf.get("/api/v1/curves", HTTP_IF_MATCH='"stale"'))
    failed.render()
    assert failed.status_code == 412
    assert failed["Content-Type"] == "application/problem+json"
    assert json.loads(failed.content)["status"] == 412
