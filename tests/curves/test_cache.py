"""The read cache: one computation per key, exact invalidation by an ingest, no leak between tenants or
licences, and reads that keep working (uncached) with Redis down."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.test import override_settings

from aurum.api.read_cache import read_cache_key, read_through
from tests.support.curves import a_curve
from tests.support.lake import EUGP_DAYS, RP_DAYS

D1, D2, _ = EUGP_DAYS
DEAD_REDIS = "redis://127.0.0.1:1/0"


def test_concurrent_misses_compute_once_and_share_the_result(read_world):
    calls: list[int] = []

    def compute() -> dict[str, Any]:
        calls.append(1)
        time.sleep(0.3)
        return {"answer": 42}

    params = {"nonce": uuid.uuid4().hex}

    def read(_: int) -> tuple[dict[str, Any], bool]:
        return read_through(
            scope="test", tenant_id=1, datasets=["vendor:EUGP"], params=params, compute=compute, ttl=60
        )

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(read, range(8)))

    assert len(calls) == 1
    assert [value for value, _ in results] == [{"answer": 42}] * 8
    assert sum(1 for _, hit in results if hit) == 7


def test_keys_differ_by_tenant_and_by_licence(read_world):
    params = {"iso": "EU"}
    acme = read_cache_key(scope="s", tenant_id=1, datasets=["vendor:EUGP", "vendor:RP"], params=params)
    globex = read_cache_key(scope="s", tenant_id=2, datasets=["vendor:EUGP", "vendor:RP"], params=params)
    narrower = read_cache_key(scope="s", tenant_id=1, datasets=["vendor:EUGP"], params=params)

    assert len({acme, globex, narrower}) == 3


def test_what_one_tenant_cached_never_reaches_another(api, read_world):
    rp_key = a_curve("RP", RP_DAYS[-1])
    params = {"curve_key": rp_key, "limit": 500}

    acme = api.get("/api/v1/curves", params, **read_world.acme.auth("viewer"))
    globex = api.get("/api/v1/curves", params, **read_world.globex.auth("viewer"))
    acme_detail = api.get(f"/api/v2/curves/{rp_key}", **read_world.acme.auth("viewer"))
    globex_detail = api.get(f"/api/v2/curves/{rp_key}", **read_world.globex.auth("viewer"))

    assert acme.json()["data"] and globex.json()["data"] == []
    assert acme_detail.status_code == 200 and globex_detail.status_code == 404


def test_reads_keep_working_uncached_when_redis_is_down(api, read_world):
    key = a_curve()
    up = api.get("/api/v2/curves/" + key, **read_world.acme.auth("viewer"))
    dead_cache = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": DEAD_REDIS,
                              "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2,
                                          "IGNORE_EXCEPTIONS": True}}}  # fmt: skip
    calls: list[int] = []
    with override_settings(REDIS_URL=DEAD_REDIS, CACHES=dead_cache):
        down = api.get("/api/v2/curves/" + key, **read_world.acme.auth("viewer"))
        v1 = api.get("/api/v1/curves", {"curve_key": key}, **read_world.acme.auth("viewer"))
        for _ in range(2):
            read_through(
                scope="t", tenant_id=1, datasets=["d"], params={}, compute=lambda: calls.append(1), ttl=60
            )

    assert down.status_code == 200 and v1.status_code == 200
    assert down.json()["data"] == up.json()["data"]
    assert len(calls) == 2  # nothing cached, nothing failed


def test_the_cache_can_be_turned_off(read_world, settings):
    settings.AURUM_READ_CACHE = False
    calls: list[int] = []
    params = {"nonce": uuid.uuid4().hex}
    for _ in range(2):
        read_through(
            scope="t", tenant_id=1, datasets=["d"], params=params, compute=lambda: calls.append(1), ttl=60
        )

    assert len(calls) == 2
