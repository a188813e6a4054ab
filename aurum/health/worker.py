"""A worker bootstep that records a heartbeat in one sorted set, which /health/ready counts."""

import os
import socket
from typing import Any

from celery import bootsteps
from django.conf import settings

# Workers' heartbeats: a sorted set of worker name → time of its last beat (Redis server time, so the clocks
# of the workers and of the web processes need not agree). Read with one ZCOUNT, never a key scan.
HEARTBEATS_KEY = "aurum:worker-heartbeats"
# Beats older than this are pruned by the workers themselves, so the set holds only recent workers.
PRUNE_AFTER_SECONDS = 3600


class HeartbeatStep(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Timer"}

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.tref: Any = None
        self.member = f"{socket.gethostname()}:{os.getpid()}:{id(parent)}"

    def start(self, parent: Any) -> None:
        # Imported here, not with the module: aurum.celery installs this step in every process that loads the
        # Celery app (manage.py commands too), and only a worker beats (issue 14: start-up cost).
        import redis

        self.errors: type[Exception] = redis.RedisError
        self.client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        self._beat()
        self.tref = parent.timer.call_repeatedly(settings.AURUM_WORKER_HEARTBEAT_SECONDS, self._beat)

    def stop(self, parent: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()
        try:
            self.client.zrem(HEARTBEATS_KEY, self.member)
        except self.errors:
            pass  # the beat ages out of the readiness window by itself

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
