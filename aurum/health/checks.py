"""Readiness checks: Postgres, Redis, a warehouse write, a Celery worker heartbeat, and the Trino coordinator
when reads go to Trino (``AURUM_QUERY_ENGINE=trino``, decision 0045).

Each check is bounded by ``AURUM_HEALTH_TIMEOUT_SECONDS`` (its own statement or socket timeout, and one
deadline over all of them: they run side by side and a check still running at the deadline counts as failed).
An answer is reused for ``AURUM_HEALTH_CACHE_SECONDS``, and concurrent callers wait for the one run in
progress, so a load balancer polling often costs one run per period. An answer with a failed check is reused
for at most ``FAILED_ANSWER_SECONDS``: a server whose worker has just started beating, or whose database is
back, is in service again within a second, not a whole period later. A failed check says so with a short
fixed reason; what went wrong is logged, never shown to the caller.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

import redis
import structlog
from django.conf import settings
from django.db import connections, transaction
from prometheus_client import Counter
from redis.backoff import NoBackoff
from redis.retry import Retry

from aurum.health.worker import HEARTBEATS_KEY
from aurum.lakehouse.engines import TrinoEngine
from aurum.lakehouse.storage import filesystem_for
from aurum.observability.metrics import gauge_register

log = structlog.get_logger(__name__)

# A worker counts as alive for three heartbeat intervals after its last beat.
HEARTBEAT_WINDOWS = 3

# The longest an answer with a failed check is reused (AURUM_HEALTH_CACHE_SECONDS when that is shorter).
FAILED_ANSWER_SECONDS = 1.0

CHECK_RUNS = Counter(
    "aurum_readiness_check_runs",
    "Readiness checks run (an answer served from the cache runs none)",
    ["check"],
)


class CheckFailedError(RuntimeError):
    """A check's verdict. ``reason`` is short, fixed text that may be shown to anyone."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    latency_ms: float
    detail: str


@dataclass(frozen=True)
class Check:
    run: Callable[[], str]
    failure: str  # the reason shown when the check fails in a way it did not name itself


def _timeout() -> float:
    return float(settings.AURUM_HEALTH_TIMEOUT_SECONDS)


def _redis_client() -> redis.Redis:
    # One attempt: redis-py's default retries (3, with backoff) would stretch the timeout fourfold.
    return redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=_timeout(),
        socket_timeout=_timeout(),
        retry=Retry(NoBackoff(), 0),
    )


def check_postgres() -> str:
    connection = connections["default"]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = %s", [int(_timeout() * 1000)])
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        # Checks run on their own threads; a connection left open there would never be reused.
        connection.close()
    return "ok"


def check_redis() -> str:
    _redis_client().ping()
    return "ok"


def check_warehouse() -> str:
    filesystem, root = filesystem_for(settings.AURUM_WAREHOUSE)
    probe = f"{root.rstrip('/')}/_health/{uuid.uuid4().hex}"
    filesystem.create_dir(probe.rsplit("/", 1)[0], recursive=True)
    with filesystem.open_output_stream(probe) as stream:
        stream.write(b"ok")
    filesystem.delete_file(probe)
    return "writable"


def check_worker() -> str:
    """Raises CheckFailedError when no worker has beaten within the window."""
    client = _redis_client()
    seconds, microseconds = client.time()
    now = seconds + microseconds / 1_000_000
    window = HEARTBEAT_WINDOWS * settings.AURUM_WORKER_HEARTBEAT_SECONDS
    alive = int(client.zcount(HEARTBEATS_KEY, now - window, "+inf"))
    if not alive:
        raise CheckFailedError(f"no worker heartbeat in the last {window} s")
    return f"{alive} worker(s) alive"


def check_trino() -> str:
    """The coordinator answers ``/v1/info`` (no query: nothing for Trino to plan) and has finished starting;
    raises CheckFailedError while it is starting (it refuses queries until then)."""
    if TrinoEngine().server_info(timeout=_timeout()).get("starting", True):
        raise CheckFailedError("starting")
    return "ok"


CHECKS: dict[str, Check] = {
    "postgres": Check(check_postgres, "unreachable"),
    "redis": Check(check_redis, "unreachable"),
    "warehouse": Check(check_warehouse, "not writable"),
    "worker": Check(check_worker, "unreachable"),
}
# Run only where reads go to Trino; ``?skip=trino`` is accepted everywhere (one probe for every deployment).
TRINO_CHECK = Check(check_trino, "unreachable")
CHECK_NAMES = frozenset({*CHECKS, "trino"})


def checks_enabled() -> dict[str, Check]:
    """The checks this process runs: ``CHECKS``, and Trino's when ``AURUM_QUERY_ENGINE`` is ``trino``."""
    if settings.AURUM_QUERY_ENGINE == "trino":
        return {**CHECKS, "trino": TRINO_CHECK}
    return CHECKS


def _run_one(name: str, check: Check) -> CheckResult:
    started = time.perf_counter()
    CHECK_RUNS.labels(check=name).inc()
    try:
        detail, ok = check.run(), True
    except CheckFailedError as failed:
        detail, ok = failed.reason, False
    except Exception as exc:  # noqa: BLE001 - a readiness probe reports every failure, whatever its kind
        log.warning("readiness check failed", check=name, error=f"{type(exc).__name__}: {exc}")
        detail, ok = check.failure, False
    return CheckResult(name, ok, round((time.perf_counter() - started) * 1000, 2), detail)


def run_checks() -> list[CheckResult]:
    """Every check, side by side, each reported within the deadline (else as timed out)."""
    deadline = _timeout() + 0.5
    started = time.perf_counter()
    checks = checks_enabled()
    pool = ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="readiness")
    futures = {name: pool.submit(_run_one, name, check) for name, check in checks.items()}
    wait(futures.values(), timeout=deadline)
    # A check past the deadline keeps its thread until its own timeout ends it; nobody waits for it.
    pool.shutdown(wait=False, cancel_futures=True)
    results = []
    for name, future in futures.items():
        if future.done() and not future.cancelled():
            results.append(future.result())
        else:
            log.warning("readiness check timed out", check=name, deadline_s=deadline)
            elapsed = round((time.perf_counter() - started) * 1000, 2)
            results.append(CheckResult(name, False, elapsed, "timed out"))
    return results


class ReadinessCache:
    """The last readiness answer, reused while fresh; one run at a time per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._results: list[CheckResult] = []
        self._at = float("-inf")

    def clear(self) -> None:
        """Forget the answer: the next call runs the checks."""
        with self._lock:
            self._at = float("-inf")

    def results(self) -> list[CheckResult]:
        with self._lock:
            fresh_for = settings.AURUM_HEALTH_CACHE_SECONDS
            if not all(result.ok for result in self._results):
                fresh_for = min(fresh_for, FAILED_ANSWER_SECONDS)
            if time.monotonic() - self._at >= fresh_for:
                self._results = run_checks()
                self._at = time.monotonic()
            return list(self._results)


READINESS = ReadinessCache()


def readiness_by_check() -> dict[tuple[str, ...], float]:
    """1 for each readiness check that passes, 0 for one that fails (the same answer as /health/ready)."""
    return {(result.name,): 1.0 if result.ok else 0.0 for result in READINESS.results()}


gauge_register(
    "aurum_readiness_ok",
    "1 when the readiness check passes, 0 when it fails (/health/ready), by check",
    readiness_by_check,
    labels=("check",),
)
