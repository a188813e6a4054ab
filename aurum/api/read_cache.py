"""Read-through cache for market-data reads (Redis through django-redis).

A key is the SHA-256 of: the read's scope and parameters, the tenant, the tenant's entitlement fingerprint
(its sorted datasets) and the current data version of each of those datasets (``aurum.lakehouse.versions``).
An ingest bumps its dataset's version, so every cached answer that could include that dataset changes key at
once, and answers about other datasets stay cached. Two tenants never share an entry.

On a miss, one caller computes while the others wait for its result (a Redis ``SET NX`` lock per key, the
"single flight"); a waiter that sees no result within the lock's lifetime computes for itself. With Redis
down every call computes: slower, never failing.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import redis
import structlog
from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder

from aurum.lakehouse.versions import dataset_versions, versions_known
from aurum.observability.metrics import READ_CACHE_REQUESTS
from aurum.redis_clients import redis_client

log = structlog.get_logger(__name__)
T = TypeVar("T")

_PREFIX = "aurum:read:"
LOCK_MS = 10_000
WAIT_STEP_S = 0.01


def entitlement_fingerprint(datasets: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(datasets)).encode()).hexdigest()[:16]


def read_cache_key(
    *,
    scope: str,
    tenant_id: int,
    datasets: Iterable[str],
    params: Mapping[str, Any],
    versioned: Iterable[str] | None = None,
) -> str | None:
    """The key for this read now, or None when the data versions are unknown (Redis down).

    ``versioned`` names the datasets the answer can contain (default: every licensed one); only their
    versions are in the key, so a one-curve read stays cached while other datasets are ingested.
    """
    found = _key_and_versions(
        scope=scope, tenant_id=tenant_id, datasets=datasets, params=params, versioned=versioned
    )
    return None if found is None else found[0]


def _key_and_versions(
    *,
    scope: str,
    tenant_id: int,
    datasets: Iterable[str],
    params: Mapping[str, Any],
    versioned: Iterable[str] | None = None,
) -> tuple[str, dict[str, int]] | None:
    licensed = sorted(datasets)
    versions = dataset_versions(sorted(versioned) if versioned is not None else licensed)
    if versions is None:
        return None
    material = json.dumps(
        {
            "scope": scope,
            # the lakehouse read: deployments (and test lakes) sharing one Redis never share answers
            "lake": [settings.AURUM_ICEBERG_CATALOG, settings.AURUM_WAREHOUSE],
            "tenant": tenant_id,
            "entitlements": entitlement_fingerprint(licensed),
            "versions": versions,
            "params": params,
        },
        sort_keys=True,
        cls=DjangoJSONEncoder,
    )
    return _PREFIX + scope + ":" + hashlib.sha256(material.encode()).hexdigest(), versions


def read_through(
    *,
    scope: str,
    tenant_id: int,
    datasets: Iterable[str],
    params: Mapping[str, Any],
    compute: Callable[[], T],
    ttl: int,
    versioned: Iterable[str] | None = None,
) -> tuple[T, bool]:
    """``(value, from_cache)``. ``compute`` runs at most once per key across processes while it runs.

    ``AURUM_READ_CACHE=false`` turns the cache off (every call computes): for measuring the uncached path.
    Each call counts as a hit, a miss or a bypass (cache off or Redis down) in ``aurum_read_cache_requests``.
    """
    value, from_cache, result = _read_through(
        scope=scope,
        tenant_id=tenant_id,
        datasets=datasets,
        params=params,
        compute=compute,
        ttl=ttl,
        versioned=versioned,
    )
    READ_CACHE_REQUESTS.labels(scope=scope, result=result).inc()
    return value, from_cache


def _read_through(
    *,
    scope: str,
    tenant_id: int,
    datasets: Iterable[str],
    params: Mapping[str, Any],
    compute: Callable[[], T],
    ttl: int,
    versioned: Iterable[str] | None,
) -> tuple[T, bool, str]:
    if not settings.AURUM_READ_CACHE:
        return compute(), False, "bypass"
    found = _key_and_versions(
        scope=scope, tenant_id=tenant_id, datasets=datasets, params=params, versioned=versioned
    )
    if found is None:
        return compute(), False, "bypass"
    key, versions = found
    hit = cache.get(key)
    if hit is not None:
        return hit, True, "hit"
    lock = key + ":lock"
    try:
        owner = bool(redis_client().set(lock, b"1", nx=True, px=LOCK_MS))
    except redis.RedisError:
        return compute(), False, "bypass"
    if not owner:
        deadline = time.monotonic() + LOCK_MS / 1000
        while time.monotonic() < deadline:
            time.sleep(WAIT_STEP_S)
            hit = cache.get(key)
            if hit is not None:
                return hit, True, "hit"
            try:
                if not redis_client().exists(lock):
                    # The owner finished (its result may have landed after our last look) or failed.
                    hit = cache.get(key)
                    if hit is not None:
                        return hit, True, "hit"
                    break
            except redis.RedisError:
                break
        log.warning("read cache: no result from the computing caller; computing", scope=scope)
    try:
        with versions_known(versions):  # what the answer is stored under: process caches key by it too
            value = compute()
        cache.set(key, value, timeout=ttl)
        return value, False, "miss"
    finally:
        if owner:
            try:
                redis_client().delete(lock)
            except redis.RedisError:
                pass
