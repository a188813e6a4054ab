"""Readiness checks. Each returns quickly (short timeouts) and reports its own latency."""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow.fs as pafs
import redis
from django.conf import settings
from django.db import connection

HEARTBEAT_KEY_PREFIX = "aurum:worker-heartbeat:"


@dataclass
class CheckResult:
    name: str
    ok: bool
    latency_ms: float
    detail: str = ""


def _redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5)


def check_postgres() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_redis() -> str:
    _redis_client().ping()
    return "ok"


def check_warehouse() -> str:
    filesystem, root = pafs.FileSystem.from_uri(settings.AURUM_WAREHOUSE)
    probe = f"{root.rstrip('/')}/_health/{uuid.uuid4().hex}"
    filesystem.create_dir(probe.rsplit("/", 1)[0], recursive=True)
    with filesystem.open_output_stream(probe) as stream:
        stream.write(b"ok")
    filesystem.delete_file(probe)
    return "writable"


def check_worker() -> str:
    client = _redis_client()
    keys = list(client.scan_iter(match=HEARTBEAT_KEY_PREFIX + "*", count=100))
    if not keys:
        raise RuntimeError("no Celery worker heartbeat in the last 30 s")
    return f"{len(keys)} worker(s) alive"


CHECKS: dict[str, Callable[[], str]] = {
    "postgres": check_postgres,
    "redis": check_redis,
    "warehouse": check_warehouse,
    "worker": check_worker,
}


def run_checks() -> list[CheckResult]:
    results = []
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            detail, ok = check(), True
        except Exception as exc:  # noqa: BLE001 - a readiness probe reports every failure, whatever its kind
            detail, ok = f"{type(exc).__name__}: {exc}", False
        results.append(CheckResult(name, ok, round((time.perf_counter() - started) * 1000, 2), detail))
    return results
