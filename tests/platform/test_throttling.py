"""Plan rate limits: a shared token bucket per tenant, headers on every API response, 429 problem beyond."""

import time

import pytest

from apps.accounts.services import api_token_create, membership_create, user_create
from aurum.api.throttling import rate_take
from tenants.services import plan_ensure, tenant_create


@pytest.fixture
def tiny_tenant_token(world):
    plan = plan_ensure(code="tiny", name="Tiny", requests_per_second=1, burst=3)
    tenant = tenant_create(
        name=f"Throttled {time.time_ns()}", schema_name=f"thr{time.time_ns() % 10**9}", plan=plan
    )
    user = user_create(email=f"u{time.time_ns()}@throttled.example", password=None)
    membership = membership_create(user=user, tenant=tenant, role="viewer")
    return {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(membership=membership, name='t')[1]}"}


def test_burst_then_429_with_retry_after_and_headers(api, tiny_tenant_token):
    responses = [api.get("/api/v2/me", **tiny_tenant_token) for _ in range(4)]

    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r["X-RateLimit-Remaining"] for r in responses[:3]] == ["2", "1", "0"]
    assert all(r["X-RateLimit-Limit"] == "3" for r in responses)
    refused = responses[3]
    assert refused["Content-Type"] == "application/problem+json"
    assert refused["Retry-After"] == "1"
    assert int(refused["X-RateLimit-Reset"]) in (3, 4)


def test_tokens_refill_at_the_plans_rate(api, tiny_tenant_token):
    for _ in range(3):
        api.get("/api/v2/me", **tiny_tenant_token)
    assert api.get("/api/v2/me", **tiny_tenant_token).status_code == 429

    time.sleep(1.1)

    assert api.get("/api/v2/me", **tiny_tenant_token).status_code == 200


def test_one_tenants_burst_does_not_limit_another(api, tiny_tenant_token, world):
    for _ in range(4):
        api.get("/api/v2/me", **tiny_tenant_token)

    assert api.get("/api/v2/me", **world.acme.auth()).status_code == 200


def test_requests_are_served_unthrottled_when_redis_is_down(api, tiny_tenant_token, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there

    responses = [api.get("/api/v2/me", **tiny_tenant_token) for _ in range(5)]

    assert {r.status_code for r in responses} == {200}
    assert "X-RateLimit-Limit" not in responses[0]


def test_the_bucket_runs_on_redis_time_not_on_the_callers_clock(monkeypatch):
    # Three web hosts share one bucket (burst 3, one token per 100 s): their clocks disagree by hours.
    key = f"aurum:test:clock:{time.time_ns()}"
    real_time = time.time

    on_time = [rate_take(key=key, burst=3, per_second=0.01) for _ in range(3)]
    monkeypatch.setattr(time, "time", lambda: real_time() + 3600)  # a host an hour ahead
    ahead = rate_take(key=key, burst=3, per_second=0.01)
    monkeypatch.setattr(time, "time", lambda: real_time() - 3600)  # a host an hour behind
    behind = rate_take(key=key, burst=3, per_second=0.01)
    monkeypatch.undo()
    after = rate_take(key=key, burst=3, per_second=0.01)

    assert [state.remaining if state else None for state in on_time] == [2, 1, 0]
    # Neither a clock ahead (which refilled the bucket) nor one behind (which dated it back) frees a token.
    for state in (ahead, behind, after):
        assert state is not None
        assert state.remaining == 0
        assert state.retry_after is not None and 99 < state.retry_after <= 100
