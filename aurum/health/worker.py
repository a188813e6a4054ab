"""A worker bootstep that records a heartbeat in one sorted set, which /health/ready counts, once the worker's
pool processes are warm (decision 0046) and its consumer takes tasks (decision 0068)."""

import os
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any

import structlog
from celery import bootsteps, signals
from django.conf import settings

log = structlog.get_logger(__name__)

# Workers' heartbeats: a sorted set of worker name → time of its last beat (Redis server time, so the clocks
# of the workers and of the web processes need not agree). Read with one ZCOUNT, never a key scan.
HEARTBEATS_KEY = "aurum:worker-heartbeats"
# Beats older than this are pruned by the workers themselves, so the set holds only recent workers.
PRUNE_AFTER_SECONDS = 3600

# A pool process warms up in ``worker_process_init`` (aurum/celery.py) and only then tells the main process it
# is up; until then the pool writes no task to it, so a task published to a worker whose children are still
# warming waits for them (3 s at start-up, issue 14). The worker therefore beats only once every process its
# pool started has finished its warm-up: each marks itself with a file named by its pid in a folder the main
# process makes before the pool starts. The folder's path travels in the environment, which a forked or a
# spawned child inherits; a file, not a shared counter, for the same reason.
POOL_WARM_DIR_ENV = "AURUM_WORKER_POOL_WARM_DIR"
# How often the main process looks for the pool's marks until they are all there.
POOL_WARM_POLL_SECONDS = 0.1


def pool_process_warm_mark() -> None:
    """Mark this pool process warm (its warm-up finished, whether or not every step succeeded)."""
    folder = os.environ.get(POOL_WARM_DIR_ENV)
    if folder:
        try:
            (Path(folder) / str(os.getpid())).touch()
        except OSError:
            log.warning("pool process warm mark not written", folder=folder)  # the worker was stopping


def pool_processes_warm(folder: Path) -> int:
    """How many pool processes of this worker have marked themselves warm (a replaced child counts too)."""
    try:
        return sum(1 for _ in folder.iterdir())
    except OSError:
        return 0


def pool_processes_started(worker: Any) -> int:
    """How many processes warm up in ``worker_process_init`` before the worker can run its first tasks: every
    process a prefork pool starts with, the solo pool's own process (it sends the signal before this step
    starts), none for the thread pool (its warm-up runs in ``worker_init``, before any step)."""
    pool: Any = getattr(worker, "pool", None)
    module = type(pool).__module__
    if module == "celery.concurrency.prefork":
        return int(pool.limit)
    if module == "celery.concurrency.solo":
        return 1
    return 0


def heartbeat_member(host: str, pid: int, step: int) -> str:
    """A worker's name in the heartbeats' set: its host, its main process's pid, and its step's id."""
    return f"{host}:{pid}:{step}"


def heartbeat_pid(member: bytes | str) -> int | None:
    """The main process's pid a heartbeat member names (None for a name of another form)."""
    text = member.decode() if isinstance(member, bytes) else member
    parts = text.rsplit(":", 2)
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


class HeartbeatStep(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Timer", "celery.worker.components:Pool"}

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.tref: Any = None
        self.wait_tref: Any = None
        self.member = heartbeat_member(socket.gethostname(), os.getpid(), id(parent))
        # Every step is built before any step creates its part (the Pool step forks the children then).
        self.warm_dir = Path(tempfile.mkdtemp(prefix="aurum-pool-warm-"))
        os.environ[POOL_WARM_DIR_ENV] = str(self.warm_dir)
        # This step starts with the worker's parts, before the consumer's (the broker connection, mingle's
        # one-second wait for its neighbours' replies, the task consumer, the event loop): a beat from here
        # said "ready" a second before the worker took its first task. Celery sends ``worker_ready`` once the
        # consumer takes tasks; the first beat waits for it.
        self.consuming = False
        signals.worker_ready.connect(self._consumer_ready, weak=False)

    def start(self, parent: Any) -> None:
        # Imported here, not with the module: aurum.celery installs this step in every process that loads the
        # Celery app (manage.py commands too), and only a worker beats (issue 14: start-up cost).
        import redis

        self.errors: type[Exception] = redis.RedisError
        self.client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        self.timer = parent.timer
        self.pool_processes = pool_processes_started(parent)
        self.wait_tref = self.timer.call_repeatedly(POOL_WARM_POLL_SECONDS, self._pool_wait)

    def _consumer_ready(self, **_: Any) -> None:
        self.consuming = True

    def stop(self, parent: Any) -> None:
        signals.worker_ready.disconnect(self._consumer_ready)
        for tref in (self.wait_tref, self.tref):
            if tref is not None:
                tref.cancel()
        shutil.rmtree(self.warm_dir, ignore_errors=True)
        try:
            self.client.zrem(HEARTBEATS_KEY, self.member)
        except self.errors:
            pass  # the beat ages out of the readiness window by itself

    def _pool_wait(self) -> None:
        if self.tref is None and self.consuming and pool_processes_warm(self.warm_dir) >= self.pool_processes:
            self.wait_tref.cancel()
            self._pool_warm()

    def _pool_warm(self) -> None:
        log.info("worker pool warm and consuming", processes=self.pool_processes, member=self.member)
        self._beat()
        self.tref = self.timer.call_repeatedly(settings.AURUM_WORKER_HEARTBEAT_SECONDS, self._beat)

    def _beat(self) -> None:
        try:
            seconds, microseconds = self.client.time()
            now = seconds + microseconds / 1_000_000
            pipe = self.client.pipeline(transaction=False)
            pipe.zadd(HEARTBEATS_KEY, {self.member: now})
            pipe.zremrangebyscore(HEARTBEATS_KEY, "-inf", now - PRUNE_AFTER_SECONDS)
            pipe.execute()
        except self.errors:
            pass  # the heartbeat is missing then, which is exactly what readiness should see
