"""Redis clients for the platform's own keys (data versions, read-cache locks, rate-limit buckets).

One client, and so one connection pool, per (URL, timeout) and process. Timeouts are short: every caller
treats Redis as optional and carries on without it (uncached reads, limits not enforced).
"""

from __future__ import annotations

import threading

import redis
from django.conf import settings

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
                    settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout
                )
                _clients[key] = client
    return client
