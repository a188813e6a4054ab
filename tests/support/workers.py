"""A real Celery worker process on one queue, for tests that kill a worker mid-task."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from tests.support.world import database_url

REPO = Path(__file__).resolve().parents[2]


@contextmanager
def queue_worker(queue: str, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """A worker (threads, one at a time) taking tasks from ``queue`` only, with ``env`` added to its
    environment (settings read from it). The test may kill it; it is killed at exit otherwise."""
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "aurum.settings.test",
        **env,
    }
    log = open(Path(settings.VAR_DIR) / f"test-worker-{queue}.log", "ab")  # noqa: SIM115 - closed below
    command = [str(Path(sys.executable).parent / "celery"), "-A", "aurum", "worker", "--pool", "threads"]
    command += ["--concurrency", "1", "-Q", queue, "--without-mingle", "--without-gossip"]
    command += ["-l", "INFO", "-n", f"{queue}-{os.getpid()}@%h"]
    process = subprocess.Popen(command, cwd=REPO, env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=20)
        log.close()
