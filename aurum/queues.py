"""Celery queues per workload (docs/decisions/0030-queues-per-workload.md).

A task goes to the queue of the first part of its name (``ingestion.run_execute`` → ``ingest``); what no rule
names (the outbox relay, watchlist fan-out, health) goes to ``maintenance``. Each queue has its own workers in
production (deploy/: one worker process group per queue, sized for its work), so a burst of scenario runs
never delays an ingest or a webhook delivery. The demo runs one worker per pool kind (prefork for ingests
and runs, threads for the rest: ``aurum.devstack.__main__.demo_worker_commands``); the tests run one
serving every queue.

Plain constants: the devstack and deploy checks read them without Django.
"""

from __future__ import annotations

from dataclasses import dataclass

INGEST = "ingest"
SCENARIOS = "scenarios"
WEBHOOKS = "webhooks"
FEEDS = "feeds"
# Backfills (decision 0036): their own queue and workers, so years of windows never delay scheduled fetches.
BACKFILL = "backfill"
MAINTENANCE = "maintenance"
QUEUES: tuple[str, ...] = (INGEST, SCENARIOS, WEBHOOKS, FEEDS, BACKFILL, MAINTENANCE)

# Task name glob → queue (Celery's task_routes); the first matching rule wins.
TASK_ROUTES: dict[str, dict[str, str]] = {
    "ingestion.*": {"queue": INGEST},
    "scenarios.*": {"queue": SCENARIOS},
    "webhooks.*": {"queue": WEBHOOKS},
    "feeds.*": {"queue": FEEDS},
    "backfill.*": {"queue": BACKFILL},
}
DEFAULT_QUEUE = MAINTENANCE


@dataclass(frozen=True)
class WorkerProfile:
    """How a queue's workers run: ``pool`` (prefork for CPU-bound work, threads for waiting on the network),
    ``concurrency`` per process (``AURUM_WORKER_CONCURRENCY`` overrides), ``max_tasks_per_child`` (a
    prefork child is replaced after that many tasks, returning memory a big workbook or run left behind), and
    ``malloc_arenas`` (glibc's malloc arenas of the process at most, for many threads that mostly wait:
    aurum.lakehouse.memory_pool.malloc_arenas_limit)."""

    pool: str
    concurrency: int
    max_tasks_per_child: int | None = None
    malloc_arenas: int | None = None


WORKER_PROFILES: dict[str, WorkerProfile] = {
    # Parsing workbooks and Iceberg writes: CPU and memory; a child per core, recycled.
    INGEST: WorkerProfile(pool="prefork", concurrency=2, max_tasks_per_child=50),
    # Monte Carlo paths: CPU; each run bounds its own memory (decision 0014).
    SCENARIOS: WorkerProfile(pool="prefork", concurrency=2, max_tasks_per_child=100),
    # Outbound HTTP to receivers: waiting, not computing; many at once.
    WEBHOOKS: WorkerProfile(pool="threads", concurrency=32, malloc_arenas=2),
    # Provider APIs: waiting, and each provider's own rate limit.
    FEEDS: WorkerProfile(pool="threads", concurrency=8),
    # Backfill windows: provider fetches and workbook ingests, a few at a time (they share the providers'
    # rate limits with the scheduled fetches, so a backfill must not take them all).
    BACKFILL: WorkerProfile(pool="threads", concurrency=2),
    # Outbox relay, sweeps, fan-outs, lakehouse maintenance: short tasks.
    MAINTENANCE: WorkerProfile(pool="threads", concurrency=4),
}


# Options every Aurum worker starts with. Without mingle: at start-up it waits one second for the other
# workers' replies, to learn the task ids they were told to revoke and their logical clocks; Aurum revokes no
# task and orders nothing by Celery's clock, so the second bought nothing (decision 0068).
WORKER_START_OPTIONS = ("--without-mingle",)


def worker_queues_arg(queues: tuple[str, ...] = QUEUES) -> str:
    """The value of a worker's ``-Q`` serving ``queues``."""
    return ",".join(queues)
