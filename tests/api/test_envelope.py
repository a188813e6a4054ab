"""The {meta, data} envelope (v1) and the v2 envelope with links and a Link header."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import RequestFactory

from aurum.api.envelope import envelope, envelope_v2, link_header, page_url
from aurum.observability.context import context_bind, context_clear


@pytest.fixture(autouse=True)
def request_id() -> Iterator[None]:
    context_bind(request_id="req-7")
    yield
    context_clear()


def test_v1_envelope_has_request_id_and_query_time_only_by_default() -> None:
    assert envelope([{"a": 1}], query_time_ms=3.14159) == {
        "meta": {"request_id": "req-7", "query_time_ms": 3},
        "data": [{"a": 1}],
    }


def test_v1_envelope_carries_the_given_optional_fields() -> None:
    body = envelope(
        [],
        query_time_ms=1.0,
        next_cursor="n",
        prev_cursor="p",
        has_more=False,
        count=0,
        total=10,
        offset=0,
        limit=5,
    )

    assert body["meta"] == {
        "request_id": "req-7",
        "query_time_ms": 1.0,
        "next_cursor": "n",
        "prev_cursor": "p",
        "has_more": False,
        "count": 0,
        "total": 10,
        "offset": 0,
        "limit": 5,
    }


def test_v1_envelope_request_id_is_null_outside_a_request() -> None:
    context_clear()

    assert envelope({}, query_time_ms=0)["meta"]["request_id"] is None


def test_v2_envelope_adds_v2_meta_and_absolute_links(rf: RequestFactory) -> None:
    request = rf.get("/api/v2/curves", {"tenant_id": "acme", "iso": "PJM", "cursor": "old", "offset": "3"})

    body = envelope_v2(
        request,
        [{"a": 1}, {"a": 2}],
        tenant_id="acme",
        query_time_ms=2.0,
        processing_time_ms=5.5,
        next_cursor="NEXT",
        has_more=True,
        limit=2,
    )

    assert body["meta"] == {
        "request_id": "req-7",
        "query_time_ms": 2.0,
        "next_cursor": "NEXT",
        "has_more": True,
        "limit": 2,
        "processing_time_ms": 5.5,
        "returned_count": 2,
        "tenant_id": "acme",
        "version": "v2",
    }
    assert body["links"] == {
        "self": "http://testserver/api/v2/curves?tenant_id=acme&iso=PJM&cursor=old&offset=3",
        "next": "http://testserver/api/v2/curves?tenant_id=acme&iso=PJM&cursor=NEXT",
        "prev": None,
    }
    assert body["data"] == [{"a": 1}, {"a": 2}]


def test_page_url_is_none_without_a_cursor(rf: RequestFactory) -> None:
    assert page_url(rf.get("/api/v2/curves"), cursor=None) is None
    assert page_url(rf.get("/api/v2/curves"), cursor="a+b") == "http://testserver/api/v2/curves?cursor=a%2Bb"


def test_link_header_lists_present_links_in_order() -> None:
    links = {"self": "https://h/x", "next": None, "prev": "https://h/x?cursor=p"}

    assert link_header(links) == '<https://h/x>; rel="self", <https://h/x?cursor=p>; rel="prev"'
    assert link_header({"next": None}) is None
