"""Starting and stopping Aurum's own processes for the benchmarks: gunicorn, uvicorn and Celery commands as
production runs them, the production environment on loopback, waiting for a port and for ``/health/ready``.

Standard library and ``aurum.devstack.services`` / ``aurum.queues`` only: a bench may import this before
``django.setup()`` (bench/soak.py does). Imported as ``from _stack import …`` (a bench's own folder is on
``sys.path`` when it runs).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from aurum.devstack.__main__ import uvicorn_command as demo_uvicorn_command
from aurum.devstack.services import free_port, free_ports, port_open
from aurum.queues import WORKER_START_OPTIONS, worker_queues_arg

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
VAR = Path(os.environ.get("AURUM_VAR_DIR", "/tmp"))

__all__ = [
    "BIN",
    "REPO",
    "VAR",
    "celery_worker_command",
    "free_port",
    "free_ports",
    "gunicorn_command",
    "port_open",
    "production_env",
    "ready",
    "start",
    "stop",
    "uvicorn_command",
    "wait_port",
    "wait_ready",
    "wait_workers",
]


def production_env(**extra: str) -> dict[str, str]:
    """This process's environment with the production settings on loopback (a bench-only secret key, every
    local host name allowed, warnings only), plus ``extra``."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aurum.settings.production",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-bench-only-secret-key",
        "DJANGO_ALLOWED_HOSTS": ".localhost,localhost,127.0.0.1",
        "AURUM_LOG_LEVEL": "WARNING",
        **extra,
    }


def gunicorn_command(port: int, *, workers: str | None = None, threads: str | None = None) -> list[str]:
    """gunicorn as deploy/gunicorn.conf.py runs it (its worker and thread counts unless given)."""
    command = [
        str(BIN / "gunicorn"),
        "-c",
        str(REPO / "deploy" / "gunicorn.conf.py"),
        "-b",
        f"127.0.0.1:{port}",
    ]
    if workers is not None:
        command += ["-w", workers]
    if threads is not None:
        command += ["--threads", threads]
    return [*command, "aurum.wsgi:application"]


def uvicorn_command(port: int, *extra: str) -> list[str]:
    """uvicorn serving aurum.asgi as the demo runs it (no access log, the keep-alive of decision 0052; its
    lifespan start-up warms the process before the socket opens), plus ``extra``."""
    return [*demo_uvicorn_command(port), *extra]


def celery_worker_command(*extra: str, queues: str | None = None) -> list[str]:
    """A Celery worker on every queue (or ``queues``) at warnings only, plus ``extra`` (pool, concurrency,
    name)."""
    return [
        str(BIN / "celery"),
        "-A",
        "aurum",
        "worker",
        "-Q",
        queues or worker_queues_arg(),
        *WORKER_START_OPTIONS,
        "-l",
        "WARNING",
        *extra,
    ]


def start(
    command: list[str], *, env: Mapping[str, str] | None = None, log: Path | IO[bytes] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``command`` in the checkout, its output appended to ``log`` (a path or an open file)."""
    out = log.open("ab") if isinstance(log, Path) else log
    return subprocess.Popen(
        command,
        cwd=REPO,
        env=dict(env if env is not None else os.environ),
        stdout=out if out is not None else None,
        stderr=subprocess.STDOUT if out is not None else None,
    )


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Terminate, then kill if it is still there after ``timeout`` seconds (a loaded machine)."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _exited(processes: Mapping[str, subprocess.Popen[bytes]]) -> None:
    dead = [f"{name} ({p.returncode})" for name, p in processes.items() if p.poll() is not None]
    if dead:
        raise RuntimeError(f"exited during start: {', '.join(dead)}")


def wait_port(
    port: int, *, processes: Mapping[str, subprocess.Popen[bytes]] | None = None, timeout: float = 600
) -> float:
    """Seconds until something listens on ``port``; raises if one of ``processes`` exits or time runs out."""
    started = time.perf_counter()
    while not port_open(port):
        _exited(processes or {})
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"nothing listened on port {port} within {timeout:.0f} s")
        time.sleep(0.05)
    return time.perf_counter() - started


def ready(base: str, *, skip_worker: bool = False, timeout: float = 10) -> bool:
    """Does ``/health/ready`` answer 200 (``skip_worker``: the web checks alone, no worker runs)?"""
    url = f"{base}/health/ready" + ("?skip=worker" if skip_worker else "")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def wait_ready(
    base: str,
    *,
    processes: Mapping[str, subprocess.Popen[bytes]] | None = None,
    skip_worker: bool = False,
    timeout: float = 600,
    interval: float = 0.05,
) -> float:
    """Seconds until ``/health/ready`` answers 200: the servers warm (decision 0046) and, unless
    ``skip_worker``, a worker's heartbeat in. Raises if one of ``processes`` exits or time runs out."""
    started = time.perf_counter()
    while not ready(base, skip_worker=skip_worker, timeout=60):
        _exited(processes or {})
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"{base}/health/ready did not answer 200 within {timeout:.0f} s")
        time.sleep(interval)
    return time.perf_counter() - started


def wait_workers(
    count: int = 1, *, processes: Mapping[str, subprocess.Popen[bytes]] | None = None, timeout: float = 600
) -> float:
    """Seconds until ``count`` Celery workers have beaten (a worker beats once its pool is warm, decision
    0046), read from Redis as ``/health/ready`` reads it. Raises if one of ``processes`` exits or time runs
    out. Needs ``django.setup()`` (the health checks read the settings)."""
    # Imported here, not above: bench/soak.py imports this module before Django is set up.
    from aurum.health.checks import CheckFailedError, check_worker

    started = time.perf_counter()
    while True:
        _exited(processes or {})
        try:
            if int(check_worker().split()[0]) >= count:
                return time.perf_counter() - started
        except CheckFailedError:
            pass
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"fewer than {count} worker heartbeats within {timeout:.0f} s")
        time.sleep(0.05)
