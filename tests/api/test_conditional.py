"""ETag, If-None-Match (304) / If-Match (412) and the Cache-Control formula of spec 3.1."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import RequestFactory

from aurum.api.conditional import cache_control, cached_response, conditional_response, etag_for
from aurum.observability.context import context_bind, context_clear

BODY: dict[str, Any] = {
    "meta": {"request_id": "r-1", "query_time_ms": 12.5},
    "data": [{"curve_key": "PJM_WEST", "mid": 41.25}],
}


@pytest.fixture(autouse=True)
def request_id() -> Iterator[None]:
    context_bind(request_id="req-42")
    yield
    context_clear()


def _expected_etag(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return '"' + hashlib.sha256(canonical.encode()).hexdigest() + '"'


ETAG = _expected_etag({"data": BODY["data"]})


# --- ETag ---------------------------------------------------------------------------------------------


def test_etag_is_the_quoted_sha256_of_the_body_without_meta() -> None:
    assert etag_for(BODY) == ETAG
    assert len(ETAG) == 66 and ETAG.startswith('"') and ETAG.endswith('"')


def test_etag_is_stable_across_key_order() -> None:
    reordered = {"data": [{"mid": 41.25, "curve_key": "PJM_WEST"}], "meta": BODY["meta"]}

    assert etag_for(reordered) == ETAG


def test_etag_changes_with_the_data() -> None:
    changed = {**BODY, "data": [{"curve_key": "PJM_WEST", "mid": 41.26}]}

    assert etag_for(changed) != ETAG


def test_etag_ignores_meta() -> None:
    other_meta = {**BODY, "meta": {"request_id": "r-2", "query_time_ms": 99.0}}

    assert etag_for(other_meta) == ETAG
    assert etag_for({"data": BODY["data"]}) == ETAG


def test_etag_covers_links() -> None:
    assert etag_for({**BODY, "links": {"next": "https://x/?cursor=a"}}) != ETAG


# --- Cache-Control ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ttl", "expected"),
    [
        (0, "private, no-cache"),
        # N=1: swr = min(max(0.5, 1), 600) = 1; sie = min(3, 86400) = 3
        (1, "private, max-age=1, stale-while-revalidate=1, stale-if-error=3"),
        # N=120: swr = min(max(60, 1), 600) = 60; sie = min(360, 86400) = 360
        (120, "private, max-age=120, stale-while-revalidate=60, stale-if-error=360"),
        # N=300: swr = 150; sie = 900
        (300, "private, max-age=300, stale-while-revalidate=150, stale-if-error=900"),
        # N=100000: swr = min(50000, 600) = 600; sie = min(300000, 86400) = 86400
        (100000, "private, max-age=100000, stale-while-revalidate=600, stale-if-error=86400"),
    ],
)
def test_cache_control_formula(ttl: int, expected: str) -> None:
    assert cache_control(ttl) == expected


def test_cache_control_rejects_negative_ttl() -> None:
    with pytest.raises(ValueError, match="negative"):
        cache_control(-1)


# --- If-None-Match → 304 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        ETAG,
        f'"other", {ETAG}',
        f'"a","b" ,  {ETAG}',
        f"W/{ETAG}",
        f'W/"other", W/{ETAG}',
        "*",
    ],
)
def test_matching_if_none_match_is_304_with_cache_headers(rf: RequestFactory, header: str) -> None:
    request = rf.get("/api/v2/curves", HTTP_IF_NONE_MATCH=header)

    response = conditional_response(request, BODY, ttl=120)

    assert response is not None
    assert response.status_code == 304
    assert response.data is None
    assert response["ETag"] == ETAG
    assert response["Cache-Control"] == "private, max-age=120, stale-while-revalidate=60, stale-if-error=360"
    assert "Link" not in response


def test_304_carries_the_link_header_of_a_v2_body(rf: RequestFactory) -> None:
    body = {
        **BODY,
        "links": {"self": "http://testserver/a", "next": "http://testserver/a?cursor=n", "prev": None},
    }
    request = rf.get("/api/v2/curves", HTTP_IF_NONE_MATCH=etag_for(body))

    response = conditional_response(request, body, ttl=300)

    assert response is not None and response.status_code == 304
    assert response["Link"] == '<http://testserver/a>; rel="self", <http://testserver/a?cursor=n>; rel="next"'


@pytest.mark.parametrize("header", ['"other"', f'"{"0" * 64}"', 'W/"other", "more"', ""])
def test_non_matching_if_none_match_sends_the_full_response(rf: RequestFactory, header: str) -> None:
    request = rf.get("/api/v2/curves", HTTP_IF_NONE_MATCH=header)

    assert conditional_response(request, BODY, ttl=120) is None

    response = cached_response(request, BODY, ttl=120)
    assert response.status_code == 200
    assert response.data == BODY
    assert response["ETag"] == ETAG
    assert response["Cache-Control"] == "private, max-age=120, stale-while-revalidate=60, stale-if-error=360"


def test_without_preconditions_the_full_response_is_sent(rf: RequestFactory) -> None:
    request = rf.get("/api/v2/curves")

    assert conditional_response(request, BODY, ttl=0) is None
    response = cached_response(request, BODY, ttl=0)
    assert (response.status_code, response["Cache-Control"], response["ETag"]) == (
        200,
        "private, no-cache",
        ETAG,
    )


def test_matching_if_none_match_on_a_write_is_412(rf: RequestFactory) -> None:
    request = rf.post("/api/v2/scenarios", HTTP_IF_NONE_MATCH="*")

    response = conditional_response(request, BODY, ttl=0)

    assert response is not None and response.status_code == 412


# --- If-Match → 412 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ['"other"', f"W/{ETAG}", '"a", "b"'])
def test_mismatching_if_match_is_412_problem(rf: RequestFactory, header: str) -> None:
    request = rf.get("/api/v2/curves", HTTP_IF_MATCH=header)

    response = conditional_response(request, BODY, ttl=120)

    assert response is not None
    assert response.status_code == 412
    assert response.content_type == "application/problem+json"
    assert response["ETag"] == ETAG
    assert response.data is not None
    body = dict(response.data)
    assert body.pop("timestamp")
    assert body == {
        "type": "https://aurum.dev/problems/precondition-failed",
        "title": "Precondition Failed",
        "status": 412,
        "detail": "If-Match does not match the current ETag.",
        "instance": "/api/v2/curves",
        "request_id": "req-42",
    }


@pytest.mark.parametrize("header", [ETAG, f'"other", {ETAG}', "*"])
def test_matching_if_match_sends_the_full_response(rf: RequestFactory, header: str) -> None:
    request = rf.get("/api/v2/curves", HTTP_IF_MATCH=header)

    assert conditional_response(request, BODY, ttl=120) is None


def test_if_match_is_evaluated_before_if_none_match(rf: RequestFactory) -> None:
    request = rf.get("/api/v2/curves", HTTP_IF_MATCH='"other"', HTTP_IF_NONE_MATCH=ETAG)

    response = conditional_response(request, BODY, ttl=120)

    assert response is not None and response.status_code == 412
