"""A platform of its own for the service-outage drill: a dedicated Postgres cluster and Redis server (the
drill stops and starts them; the suite's own are never touched), the demo's data built in them
(aurum.devstack.drill.Drill), and the production processes (gunicorn, a Celery worker, beat) on the
production settings, plus a load of mixed API requests whose every answer is recorded.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from aurum.devstack.drill import Drill
from aurum.devstack.services import PostgresServer, RedisServer, cluster_root, free_port, port_open
from aurum.queues import worker_queues_arg

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HANG_SECONDS = 30.0  # a request still unanswered after this long hangs (the client gives up)

# What the platform's processes get on top of the drill's environment: production settings as the demo runs
# them (plain HTTP on loopback), persistent database connections (CONN_MAX_AGE, the production default), and
# webhook receivers on loopback allowed.
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "aurum.settings.production",
    "DJANGO_ALLOWED_HOSTS": ".localhost,localhost,127.0.0.1",
    "AURUM_SSL_REDIRECT": "false",
    "AURUM_HSTS_SECONDS": "0",
    "AURUM_SECURE_COOKIES": "false",
    "AURUM_LOG_FORMAT": "console",
    "AURUM_WEBHOOK_ALLOW_PRIVATE": "true",
    "AURUM_WEBHOOK_ALLOW_HTTP": "true",
    "AURUM_WEBHOOK_TIMEOUT_SECONDS": "5",
    "AURUM_WORKER_HEARTBEAT_SECONDS": "2",
    "AURUM_HEALTH_CACHE_SECONDS": "0",
    # The sweep re-sends a run whose task the broker did not take (Redis down at submit) this long after.
    "AURUM_SCENARIO_STALE_DISPATCH_SECONDS": "20",
    "AURUM_SCENARIO_HEARTBEAT_STALE_SECONDS": "30",
    "AURUM_WEB_WORKERS": "2",
    "AURUM_WEB_THREADS": "4",
}
_RAISE_LIMITS = """
from tenants.models import Plan
Plan.objects.update(requests_per_second=10000, burst=10000, api_requests_per_month=None)
"""


@dataclass
class OutageStack:
    """Dedicated Postgres and Redis, the demo's data, gunicorn + worker + beat. ``start()`` / ``stop()``."""

    workdir: Path
    days: int = 1
    postgres: PostgresServer = field(init=False)
    redis: RedisServer = field(init=False)
    drill: Drill = field(init=False)
    port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        name = f"outages-{secrets.token_hex(3)}"
        self.postgres = PostgresServer(cluster_root(self.workdir, name), free_port(), fast_unsafe=True)
        self.redis = RedisServer(self.workdir / "redis", free_port())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {**self.drill.env, **PRODUCTION_ENV, "DJANGO_SECRET_KEY": self._secret}

    def start(self) -> None:
        started = time.monotonic()
        self._secret = secrets.token_urlsafe(50)
        self.postgres.start()
        self.redis.start()
        base = {**os.environ, "DATABASE_URL": self.postgres.url, "REDIS_URL": self.redis.url}
        base["DJANGO_SETTINGS_MODULE"] = "aurum.settings.test"
        self.drill = Drill(workdir=self.workdir / "platform", base_env=base, days=self.days)
        self.drill.build()
        self.drill.manage("shell", "-c", _RAISE_LIMITS)
        self.seconds["build"] = round(time.monotonic() - started, 1)
        self._spawn("web", [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "aurum.wsgi:application"])
        worker = [
            str(BIN / "celery"),
            "-A",
            "aurum",
            "worker",
            "-Q",
            worker_queues_arg(),
            "--pool",
            "threads",
        ]
        self._spawn("worker", [*worker, "--concurrency", "4", "-l", "INFO", "-n", "drill@%h"])
        beat = self.workdir / "beat-schedule"
        self._spawn("beat", [str(BIN / "celery"), "-A", "aurum", "beat", "-s", str(beat), "-l", "INFO"])
        self.wait_ready()
        self.seconds["processes_ready"] = round(time.monotonic() - started - self.seconds["build"], 1)

    def _spawn(self, name: str, command: list[str]) -> None:
        env = {**self.env, "AURUM_BIND": f"127.0.0.1:{self.port}"}
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - the process owns it until stop()
        self.processes[name] = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=log)

    def wait_ready(self, timeout: float = 300) -> None:
        """Until /health/ready answers 200 (Postgres, Redis, warehouse, a worker's heartbeat)."""
        deadline = time.monotonic() + timeout
        while True:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited ({process.returncode}); see {self.workdir}/{name}.log")
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=10).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the drill's platform is not ready; see the logs in {self.workdir}")
            time.sleep(1)

    def users(self) -> dict[str, dict[str, Any]]:
        """demo.json's users by email (tokens, tenants)."""
        data = json.loads((Path(self.drill.env["AURUM_VAR_DIR"]) / "demo.json").read_text())
        return {user["email"]: user for user in data["users"]}

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        """Rows of ``query`` on the drill's database (psycopg, autocommit)."""
        import psycopg

        url = self.drill.env["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
            return list(connection.execute(query).fetchall())  # type: ignore[arg-type]

    # --- faults --------------------------------------------------------------------------------------------

    def redis_stop(self) -> None:
        self.redis.stop()
        while port_open(self.redis.port):
            time.sleep(0.05)

    def redis_start(self) -> None:
        self.redis.start()

    def postgres_restart(self, down_seconds: float) -> dict[str, float]:
        """Fast shutdown (sessions ended, transactions rolled back), ``down_seconds`` down, start again."""
        started = time.monotonic()
        self.postgres.stop()
        stopped = time.monotonic()
        time.sleep(down_seconds)
        self.postgres.start()
        return {
            "stop": round(stopped - started, 2),
            "start": round(time.monotonic() - stopped - down_seconds, 2),
        }

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self.redis.stop()
        self.postgres.stop()
        shutil.rmtree(self.postgres.root.parent, ignore_errors=True)


@dataclass(frozen=True)
class Answer:
    kind: str
    started: float  # time.monotonic()
    seconds: float
    status: int  # 0: no answer (connection refused or reset, or HANG_SECONDS passed)
    problem: bool  # application/problem+json with the RFC 7807 members
    error: str = ""


@dataclass
class Load:
    """Threads sending ``requests`` (kind → callable(client) → httpx.Response) in turn until stopped; every
    answer kept in ``answers``."""

    base_url: str
    requests: dict[str, Callable[[httpx.Client], httpx.Response]]
    threads: int = 4
    pause: float = 0.05  # seconds between one thread's requests
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for number in range(self.threads):
            thread = threading.Thread(target=self._run, args=(number,), daemon=True)
            thread.start()
            self._workers.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._workers:
            thread.join(timeout=HANG_SECONDS + 10)

    def _run(self, number: int) -> None:
        kinds = list(self.requests)
        turn = number
        with httpx.Client(base_url=self.base_url, timeout=HANG_SECONDS) as client:
            while not self._stop.is_set():
                kind = kinds[turn % len(kinds)]
                turn += 1
                self.record(kind, functools.partial(self.requests[kind], client))
                self._stop.wait(self.pause)

    def record(self, kind: str, send: Callable[[], httpx.Response]) -> Answer:
        started = time.monotonic()
        try:
            response = send()
            answer = Answer(
                kind, started, time.monotonic() - started, response.status_code, is_problem(response)
            )
        except httpx.HTTPError as exc:
            answer = Answer(
                kind, started, time.monotonic() - started, 0, False, f"{type(exc).__name__}: {exc}"
            )
        with self._lock:
            self.answers.append(answer)
        return answer

    def between(self, start: float, end: float) -> list[Answer]:
        with self._lock:
            return [a for a in self.answers if start <= a.started < end]


def is_problem(response: httpx.Response) -> bool:
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return False
    body = response.json()
    return {"type", "title", "status", "detail"} <= set(body) and body["status"] == response.status_code


def summary(answers: list[Answer]) -> dict[str, dict[str, Any]]:
    """Per kind: answers by status, and the slowest and median seconds (for docs/performance.md)."""
    out: dict[str, dict[str, Any]] = {}
    for kind in sorted({a.kind for a in answers}):
        mine = [a for a in answers if a.kind == kind]
        seconds = sorted(a.seconds for a in mine)
        statuses: dict[str, int] = {}
        for a in mine:
            statuses[str(a.status)] = statuses.get(str(a.status), 0) + 1
        out[kind] = {
            "statuses": statuses,
            "median_s": round(seconds[len(seconds) // 2], 3),
            "max_s": round(seconds[-1], 3),
        }
    return out
