"""``python -m aurum.worker QUEUE``: a Celery worker for one workload's queue, with its profile
(aurum/queues.py WORKER_PROFILES). Production runs one such process group per queue (deploy/); the demo runs
one worker per pool kind, and the tests one worker serving every queue.

``AURUM_WORKER_CONCURRENCY`` overrides the profile's concurrency (size it to the pod's CPU or the receivers'
count); any further arguments go to ``celery worker`` as they are (e.g. ``-l WARNING``).

With ``AURUM_WORKER_METRICS_PORT`` set, a prefork worker's children count into a shared folder
(``PROMETHEUS_MULTIPROC_DIR``, a fresh temporary one unless given) so the endpoint adds them up.
"""

from __future__ import annotations

import os
import sys
import tempfile

from aurum.queues import QUEUES, WORKER_PROFILES, WORKER_START_OPTIONS


def worker_argv(queue: str, extra: list[str] | None = None) -> list[str]:
    """The ``celery worker`` arguments for ``queue``'s workers; ValueError for a queue Aurum has not."""
    if queue not in WORKER_PROFILES:
        raise ValueError(f"unknown queue {queue!r}; Aurum's queues are {', '.join(QUEUES)}")
    profile = WORKER_PROFILES[queue]
    concurrency = int(os.environ.get("AURUM_WORKER_CONCURRENCY") or profile.concurrency)
    argv = [
        "worker",
        "-Q",
        queue,
        "--pool",
        profile.pool,
        "--concurrency",
        str(concurrency),
        "-n",
        f"{queue}@%h",
    ]
    if profile.max_tasks_per_child:
        argv += ["--max-tasks-per-child", str(profile.max_tasks_per_child)]
    return argv + [*WORKER_START_OPTIONS, "-l", "INFO", *(extra or [])]


def main(args: list[str]) -> None:
    if not args:
        sys.exit(f"usage: python -m aurum.worker QUEUE [celery worker options]; queues: {', '.join(QUEUES)}")
    try:
        argv = worker_argv(args[0], args[1:])
    except ValueError as exc:
        sys.exit(str(exc))
    if os.environ.get("AURUM_WORKER_METRICS_PORT", "0") not in ("", "0"):
        # Before prometheus_client is imported: it picks its value store when imported.
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="aurum-worker-metrics-"))
    arenas = WORKER_PROFILES[args[0]].malloc_arenas
    if arenas:  # before any thread starts (the pool's, the publisher's): every arena they get is one of these
        from aurum.lakehouse.memory_pool import malloc_arenas_limit

        malloc_arenas_limit(arenas)
    from aurum.celery import app

    app.worker_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
