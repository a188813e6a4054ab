"""Token buckets in Redis, shared by every worker and host: the one rate-limit code of Aurum.

- API: per tenant, from its plan (``burst`` tokens, refilled at ``requests_per_second``; ``plan_bucket``).
  Every API response says where the caller stands (``X-RateLimit-Limit/Remaining/Reset``); a refusal is a
  429 problem with ``Retry-After``. The DRF throttle that takes from it also counts the API-request quota in
  the same Redis script (``apps.usage.api.throttling``, decision 0057).
- Portal sign-in (failures per email and per client IP) and websocket connects (per tenant and credential)
  use the same buckets (``rate_take``, ``limits_refusal``, ``limits_take``).

The bucket's clock is Redis's (``TIME`` inside the script): web hosts whose clocks disagree still share one
bucket correctly. If Redis is unreachable no limit is enforced (logged): availability beats strictness.
"""

import fnmatch
import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import redis
import structlog

from aurum.redis_clients import redis_client

log = structlog.get_logger(__name__)

RATE_ATTRIBUTE = "aurum_rate"  # the request's RateState (None: not limited)
QUOTA_HEADERS_ATTRIBUTE = "aurum_quota_headers"  # X-Quota-* of the API-request quota (apps.usage)

# A token bucket as a Lua function, for this module's script and for scripts that run it with other work in
# one round trip (apps.usage.meters: the rate limit and the API-request quota). Arguments: the bucket's key,
# capacity, refill per second, cost (0 = only look: is a token there?). Returns {allowed, tokens left * 1000,
# ms until full}. The clock is the server's, never the caller's.
TOKEN_BUCKET_LUA = """
local function token_bucket(key, capacity, rate, cost)
  local clock = redis.call('TIME')
  local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(state[1]) or capacity
  local at = tonumber(state[2]) or now
  tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
  local allowed = 0
  if cost == 0 then
    if tokens >= 1 then allowed = 1 end
    return {allowed, math.floor(tokens * 1000), math.ceil((capacity - tokens) / rate * 1000)}
  end
  if tokens >= cost then
    tokens = tokens - cost
    allowed = 1
  end
  redis.call('HSET', key, 'tokens', tokens, 'at', now)
  redis.call('EXPIRE', key, math.ceil(capacity / rate) + 1)
  return {allowed, math.floor(tokens * 1000), math.ceil((capacity - tokens) / rate * 1000)}
end
"""
# Scripts that read TIME and then write replicate their effects, not the script (implicit since Redis 5).
REPLICATE_EFFECTS_LUA = "if redis.replicate_commands then redis.replicate_commands() end\n"
# KEYS[1] bucket; ARGV: capacity, refill per second, cost.
_TOKEN_BUCKET = (
    REPLICATE_EFFECTS_LUA
    + TOKEN_BUCKET_LUA
    + "return token_bucket(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))"
)


@dataclass(frozen=True)
class RateState:
    limit: int
    remaining: int
    reset_seconds: int
    retry_after: float | None


@dataclass(frozen=True)
class Limit:
    """One bucket: ``burst`` tokens, refilled at ``per_second``."""

    key: str
    burst: int
    per_second: float


def rate_take(*, key: str, burst: int, per_second: float, cost: int = 1) -> RateState | None:
    """Take ``cost`` tokens from ``key``'s bucket (``cost=0`` only looks); None when Redis cannot be asked."""
    if burst < 1 or per_second <= 0:
        raise ValueError(f"a bucket needs burst >= 1 and a positive rate (got {burst}, {per_second})")
    try:
        reply = redis_client(timeout=0.3).eval(_TOKEN_BUCKET, 1, key, burst, per_second, cost)
    except redis.RedisError as exc:
        log.warning("rate limit not enforced: Redis unavailable", key=key, error=str(exc))
        return None
    return rate_state_of(reply, burst=burst, per_second=per_second, cost=cost)


def rate_state_of(reply: Sequence[Any], *, burst: int, per_second: float, cost: int = 1) -> RateState:
    """The RateState of ``token_bucket``'s reply {allowed, tokens left * 1000, ms until full}."""
    allowed, left_milli, full_ms = reply
    tokens_left = int(left_milli) / 1000
    retry = None if allowed else max(0.0, (max(cost, 1) - tokens_left) / per_second)
    return RateState(
        limit=burst,
        remaining=int(tokens_left),
        reset_seconds=math.ceil(int(full_ms) / 1000),
        retry_after=retry,
    )


def limits_refusal(limits: Iterable[Limit]) -> float | None:
    """Seconds until every bucket has a token again, or None when none is empty. Takes nothing."""
    waits = [
        state.retry_after
        for limit in limits
        if (state := rate_take(key=limit.key, burst=limit.burst, per_second=limit.per_second, cost=0))
        is not None
        and state.retry_after is not None
    ]
    return max(waits) if waits else None


def limits_take(limits: Iterable[Limit]) -> None:
    """Take one token from each bucket (an empty one stays empty)."""
    for limit in limits:
        rate_take(key=limit.key, burst=limit.burst, per_second=limit.per_second)


@dataclass(frozen=True)
class RouteLimit:
    """A plan's own bucket for the routes ``route`` names: a URL name or a path pattern (``*`` wildcards)."""

    pk: int
    route: str
    burst: int
    per_second: float

    def matches(self, url_name: str | None, path: str) -> bool:
        if self.route.startswith("/"):
            return fnmatch.fnmatchcase(path, self.route)
        return url_name == self.route


_route_limits_lock = threading.Lock()
_route_limits: dict[tuple[int, int], tuple[RouteLimit, ...]] = {}


def plan_route_limits(plan: Any) -> tuple[RouteLimit, ...]:
    """The plan's per-route limits (``Plan.route_limits``): URL names first, then path patterns, longest
    first (the most specific match wins). Read once per process and ``plan.route_limits_version`` (bumped
    on every change); a plan without any (version 0) costs nothing."""
    version = plan.route_limits_version
    if not version:
        return ()
    cached = _route_limits.get((plan.pk, version))
    if cached is not None:
        return cached
    found = sorted(
        (
            RouteLimit(pk=r.pk, route=r.route, burst=r.burst, per_second=float(r.requests_per_second))
            for r in plan.route_limits.all()
        ),
        key=lambda r: (r.route.startswith("/"), -len(r.route), r.route),
    )
    with _route_limits_lock:
        for stale in [key for key in _route_limits if key[0] == plan.pk]:
            del _route_limits[stale]
        _route_limits[(plan.pk, version)] = tuple(found)
    return tuple(found)


def plan_bucket(*, tenant: Any, url_name: str | None, path: str) -> Limit:
    """The bucket an API request takes from: the tenant plan's own (``burst`` requests at once,
    ``requests_per_second`` sustained), or the bucket of a route the plan has its own limit for
    (``PlanRouteLimit``). Checked with the API-request quota in one round trip (apps.usage.api.throttling)."""
    plan = tenant.plan
    override = next((r for r in plan_route_limits(plan) if r.matches(url_name, path)), None)
    if override is not None:
        return Limit(
            key=f"aurum:rate:{tenant.schema_name}:route:{override.pk}",
            burst=override.burst,
            per_second=override.per_second,
        )
    return Limit(
        key=f"aurum:rate:{tenant.schema_name}", burst=plan.burst, per_second=float(plan.requests_per_second)
    )


class RateLimitHeadersMiddleware:
    """Copies the request's rate-limit state, and where it stands against the API-request quota, onto the
    response (2xx, 4xx and 429 alike)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        response = self.get_response(request)
        state: RateState | None = getattr(request, RATE_ATTRIBUTE, None)
        if state is not None:
            response["X-RateLimit-Limit"] = str(state.limit)
            response["X-RateLimit-Remaining"] = str(state.remaining)
            response["X-RateLimit-Reset"] = str(state.reset_seconds)
        for name, value in getattr(request, QUOTA_HEADERS_ATTRIBUTE, {}).items():
            response.setdefault(name, value)
        return response
