"""Per-tenant rate limits from the tenant's plan: a token bucket in Redis (``burst`` tokens, refilled at
``requests_per_second``), shared by every worker. Every API response says where the caller stands
(``X-RateLimit-Limit/Remaining/Reset``); a refusal is a 429 problem with ``Retry-After``.

If Redis is unreachable the limit is not enforced (logged): availability beats strictness for reads.
"""

import math
import time
from dataclasses import dataclass
from typing import Any

import redis
import structlog
from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

log = structlog.get_logger(__name__)

# KEYS[1] bucket; ARGV: capacity, refill per second, now (s).
# Returns {allowed, tokens left * 1000, ms until full}.
_TOKEN_BUCKET = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
return {allowed, math.floor(tokens * 1000), math.ceil((capacity - tokens) / rate * 1000)}
"""


@dataclass(frozen=True)
class RateState:
    limit: int
    remaining: int
    reset_seconds: int
    retry_after: float | None


_clients: dict[str, redis.Redis] = {}


def _redis() -> redis.Redis:
    url = settings.REDIS_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=0.3, socket_timeout=0.3)
    return _clients[url]


def rate_take(*, key: str, burst: int, per_second: float) -> RateState | None:
    """Take one token from ``key``'s bucket; None when Redis cannot be asked."""
    try:
        allowed, left_milli, full_ms = _redis().eval(_TOKEN_BUCKET, 1, key, burst, per_second, time.time())
    except redis.RedisError as exc:
        log.warning("rate limit not enforced: Redis unavailable", error=str(exc))
        return None
    tokens_left = int(left_milli) / 1000
    retry = None if allowed else max(0.0, (1 - tokens_left) / per_second)  # until the next whole token
    return RateState(
        limit=burst,
        remaining=int(tokens_left),
        reset_seconds=math.ceil(int(full_ms) / 1000),
        retry_after=retry,
    )


class PlanRateThrottle(BaseThrottle):
    """The tenant's plan decides: ``burst`` requests at once, ``requests_per_second`` sustained."""

    def allow_request(self, request: Request, view: Any) -> bool:
        membership = getattr(request._request, "aurum_membership", None)
        if membership is None:
            return True  # unauthenticated requests are refused by authentication, not here
        plan = membership.tenant.plan
        state = rate_take(
            key=f"aurum:rate:{membership.tenant.schema_name}",
            burst=plan.burst,
            per_second=float(plan.requests_per_second),
        )
        request._request.aurum_rate = state  # type: ignore[attr-defined]
        self.state = state
        return state is None or state.retry_after is None

    def wait(self) -> float | None:
        state: RateState | None = getattr(self, "state", None)
        return math.ceil(state.retry_after) if state and state.retry_after is not None else None


class RateLimitHeadersMiddleware:
    """Copies the request's rate-limit state onto the response (2xx, 4xx and 429 alike)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        response = self.get_response(request)
        state: RateState | None = getattr(request, "aurum_rate", None)
        if state is not None:
            response["X-RateLimit-Limit"] = str(state.limit)
            response["X-RateLimit-Remaining"] = str(state.remaining)
            response["X-RateLimit-Reset"] = str(state.reset_seconds)
        return response
