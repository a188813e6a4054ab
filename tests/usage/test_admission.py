"""An API request's admission (decision 0057): the plan's rate limit and its monthly API-request quota are
checked and counted by one Redis script; a request the rate limit refuses is not counted; with Redis down
nothing is enforced and the request is served."""

from __future__ import annotations

from typing import Any

from apps.usage.services import usage_take
from aurum.redis_clients import redis_client
from tenants.services import plan_route_limit_set
from tests.support.usage import quota_tenant


def _commands(monkeypatch: Any) -> list[str]:
    """The Redis commands the API's client sends from now on (they still reach the real Redis)."""
    client = redis_client(timeout=0.3)
    sent: list[str] = []
    send = client.execute_command

    def spy(*args: Any, **options: Any) -> Any:
        sent.append(str(args[0]))
        return send(*args, **options)

    monkeypatch.setattr(client, "execute_command", spy)
    return sent


def _month_used(quota: Any) -> int:
    month = usage_take(tenant=quota.tenant, credential="x", metric="api_requests", amount=0, mode="none")
    assert month is not None
    return month.used


def test_the_rate_limit_and_the_quota_are_one_redis_round_trip(api, world, monkeypatch):
    quota = quota_tenant(api_requests_per_month=10)
    api.get("/api/v2/me", **quota.auth())  # the month's first request seeds its running total
    sent = _commands(monkeypatch)

    response = api.get("/api/v2/me", **quota.auth())

    assert response.status_code == 200
    assert sent == ["EVALSHA"]  # one round trip: the script by its SHA1 (loaded at the first request)
    assert (response["X-RateLimit-Limit"], response["X-Quota-Limit"], response["X-Quota-Remaining"]) == (
        "100000",
        "10",
        "8",
    )


def test_a_redis_that_forgot_the_scripts_loads_them_again(api, world, monkeypatch):
    """A restarted Redis (or SCRIPT FLUSH) answers NOSCRIPT: the script is loaded and the request counted."""
    quota = quota_tenant(api_requests_per_month=10)
    api.get("/api/v2/me", **quota.auth())
    redis_client(timeout=0.3).script_flush()
    sent = _commands(monkeypatch)

    response = api.get("/api/v2/me", **quota.auth())

    assert response.status_code == 200
    assert sent[0] == "EVALSHA" and "SCRIPT LOAD" in sent and sent[-1] == "EVALSHA"
    assert response["X-Quota-Remaining"] == "8"
    assert _month_used(quota) == 2


def test_a_request_the_rate_limit_refuses_is_not_counted_against_the_quota(api, world):
    quota = quota_tenant(api_requests_per_month=10)
    plan_route_limit_set(plan=quota.plan, route="me", requests_per_second=1, burst=2)

    responses = [api.get("/api/v2/me", **quota.auth()) for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[2].json()["type"] == "https://aurum.dev/problems/throttled"
    assert int(responses[2]["Retry-After"]) >= 1
    assert [r.get("X-Quota-Remaining") for r in responses] == ["9", "8", None]
    assert _month_used(quota) == 2


def test_the_quota_refusal_keeps_the_rate_limit_headers(api, world):
    quota = quota_tenant(api_requests_per_month=1)

    responses = [api.get("/api/v2/me", **quota.auth()) for _ in range(2)]

    assert [r.status_code for r in responses] == [200, 429]
    assert responses[1].json()["type"] == "https://aurum.dev/problems/quota-exceeded"
    assert responses[1]["X-RateLimit-Limit"] == "100000"
    assert responses[1]["X-Quota-Remaining"] == "0"
    assert _month_used(quota) == 1


def test_with_redis_down_the_request_is_served_unlimited_and_uncounted(api, world, settings):
    quota = quota_tenant(api_requests_per_month=1)
    api.get("/api/v2/me", **quota.auth())
    reachable = settings.REDIS_URL

    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    served = [api.get("/api/v2/me", **quota.auth()) for _ in range(2)]
    settings.REDIS_URL = reachable

    assert [r.status_code for r in served] == [200, 200]
    assert not any("X-RateLimit-Limit" in r or "X-Quota-Limit" in r for r in served)
    assert _month_used(quota) == 1
