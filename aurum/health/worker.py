"""A worker bootstep that writes a heartbeat key with a TTL, which /health/ready looks for."""

import socket
from typing import Any

import redis
from celery import bootsteps
from django.conf import settings

from aurum.health.checks import HEARTBEAT_KEY_PREFIX


class HeartbeatStep(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Timer"}

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.tref: Any = None
        self.key = HEARTBEAT_KEY_PREFIX + f"{socket.gethostname()}:{id(parent)}"

    def start(self, parent: Any) -> None:
        interval = settings.AURUM_WORKER_HEARTBEAT_SECONDS
        self.client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
        self._beat(ttl=max(3 * interval, 3))
        self.tref = parent.timer.call_repeatedly(interval, self._beat, kwargs={"ttl": max(3 * interval, 3)})

    def stop(self, parent: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()
        try:
            self.client.delete(self.key)
        except redis.RedisError:
            pass

    def _beat(self, ttl: int) -> None:
        try:
            self.client.set(self.key, "1", ex=ttl)
        except redis.RedisError:
            pass  # the heartbeat is missing then, which is exactly what readiness should see
