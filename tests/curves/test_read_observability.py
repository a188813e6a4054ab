"""A curve read on /metrics (read-cache hits and misses) and in a trace (the lakehouse query's span)."""

from __future__ import annotations

from django.core.cache import cache

from tests.support.curves import a_curve
from tests.support.lake import RP_DAYS
from tests.support.observability import read_spans, scrape, tracing_to, value


def test_a_repeated_read_counts_one_miss_then_one_hit(api, read_world):
    key = a_curve("RP", RP_DAYS[-1])
    cache.delete_pattern("aurum:read:v2.curve:*")  # type: ignore[attr-defined]  # django-redis; earlier tests
    before = scrape(api)

    first = api.get(f"/api/v2/curves/{key}", **read_world.acme.auth("viewer"))
    second = api.get(f"/api/v2/curves/{key}", **read_world.acme.auth("viewer"))
    after = scrape(api)

    moved = {
        result: value(after, "aurum_read_cache_requests_total", scope="v2.curve", result=result)
        - value(before, "aurum_read_cache_requests_total", scope="v2.curve", result=result)
        for result in ("hit", "miss", "bypass")
    }
    assert (first.status_code, second.status_code) == (200, 200)
    assert moved == {"hit": 1, "miss": 1, "bypass": 0}


def test_a_traced_read_has_a_lakehouse_query_span_in_the_request_trace(api, read_world, tmp_path, settings):
    settings.AURUM_READ_CACHE = False
    key = a_curve("RP", RP_DAYS[-1])
    path = tmp_path / "spans.jsonl"

    with tracing_to(path):
        response = api.get(f"/api/v2/curves/{key}", **read_world.acme.auth("viewer"))

    spans = read_spans(path)
    server = next(s for s in spans if s["kind"] == "SpanKind.SERVER")
    queries = [s for s in spans if s["name"] == "lakehouse.query"]
    assert response.status_code == 200, response.content
    assert queries and {s["context"]["trace_id"] for s in queries} == {server["context"]["trace_id"]}
    assert queries[0]["attributes"]["aurum.lakehouse.engine"] == "duckdb"
    assert all(table.startswith("market.") for table in queries[0]["attributes"]["aurum.lakehouse.table"])
    assert queries[-1]["attributes"]["aurum.lakehouse.rows"] == len(response.json()["data"]["points"])
