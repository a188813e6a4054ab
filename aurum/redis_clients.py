"""Redis clients for the platform's own keys (data versions, read-cache locks, rate-limit buckets).

One client, and so one connection pool, per (URL, timeout) and process. Timeouts are short: every caller
treats Redis as optional and carries on without it (uncached reads, limits not enforced). One immediate retry
(a pooled connection that died with a Redis restart) and no more: redis-py's default (10 retries with
exponential backoff up to 1 s) made every call cost ~2-5 s while Redis was down, and an API request makes
several (rate limit, usage meter, read cache): the drill in tests/resilience/test_service_outages.py.
"""

from __future__ import annotations

import threading

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

_lock = threading.Lock()
_clients: dict[tuple[str, float], redis.Redis] = {}


def redis_client(*, timeout: float = 0.5) -> redis.Redis:
    key = (settings.REDIS_URL, timeout)
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = redis.Redis.from_url(
                    settings.REDIS_URL,
                    socket_connect_timeout=timeout,
                    socket_timeout=timeout,
                    retry=Retry(NoBackoff(), 1),
                )
                _clients[key] = client
    return client
