"""Domain metrics for Prometheus (docs/operations.md "Metrics and alerts", decision 0031).

Two kinds:

- **Events** counted where they happen (an ingest finished, a scenario run ended, a cached read): counters and
  histograms defined here, incremented by the code that does the work, in whatever process does it. Web
  processes run under gunicorn with several workers and Celery workers may fork: with
  ``PROMETHEUS_MULTIPROC_DIR`` set, prometheus_client keeps each process's values in that folder and
  ``metrics_exposition`` adds them up (deploy/gunicorn.conf.py sets it and marks exited workers dead).
- **State** read at scrape time (queue depth, backlogs, dataset lateness, readiness): gauges computed by
  ``ScrapeCollector`` when /metrics is scraped, from a function registered with ``gauge_register``, and reused
  for ``AURUM_METRICS_SCRAPE_CACHE_SECONDS``. Apps register their own in ``AppConfig.ready()`` (the platform
  never imports a domain app): e.g. the webhook backlog, dataset lateness. A state gauge is the same in
  every process, so it is served by the web processes only, never by the workers' endpoints.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import redis
import structlog
from django.conf import settings
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from aurum.queues import QUEUES

log = structlog.get_logger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# --- events ----------------------------------------------------------------------------------------------
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)

INGEST_DURATION = Histogram(
    "aurum_ingest_duration_seconds",
    "Ingest runs: time from a worker starting the run to its outcome, by dataset and outcome",
    ["dataset", "outcome"],
    buckets=DURATION_BUCKETS,
)
INGEST_ROWS = Counter(
    "aurum_ingest_rows",
    "Rows an ingest run published to the lakehouse (derived strips included), by dataset and outcome",
    ["dataset", "outcome"],
)
INGEST_ROWS_QUARANTINED = Counter(
    "aurum_ingest_rows_quarantined",
    "Rows an ingest run put in quarantine (failed a quality rule), by dataset",
    ["dataset"],
)
SCENARIO_RUN_DURATION = Histogram(
    "aurum_scenario_run_duration_seconds",
    "Scenario runs: time from start to end, by outcome (succeeded, failed, cancelled)",
    ["outcome"],
    buckets=DURATION_BUCKETS,
)
READ_CACHE_REQUESTS = Counter(
    "aurum_read_cache_requests",
    "Market-data reads through the read cache, by scope and result (hit, miss, bypass: off or Redis down)",
    ["scope", "result"],
)

# Lakehouse maintenance (apps/maintenance): what each pass removed, and how long each table took.
LAKEHOUSE_SNAPSHOTS_EXPIRED = Counter(
    "aurum_lakehouse_snapshots_expired", "Iceberg snapshots expired by lakehouse maintenance"
)
LAKEHOUSE_FILES_COMPACTED = Counter(
    "aurum_lakehouse_files_compacted", "Small data files rewritten into larger ones by compaction"
)
LAKEHOUSE_MANIFESTS_DROPPED = Counter(
    "aurum_lakehouse_manifests_dropped",
    "Manifests without a live file dropped from a table's current snapshot by maintenance",
)
LAKEHOUSE_ORPHAN_FILES = Counter(
    "aurum_lakehouse_orphan_files_removed", "Files no snapshot referenced, deleted by orphan cleanup"
)
LAKEHOUSE_ORPHAN_BYTES = Counter(
    "aurum_lakehouse_orphan_bytes_removed", "Bytes of the files orphan cleanup deleted"
)
LAKEHOUSE_MAINTENANCE_SECONDS = Histogram(
    "aurum_lakehouse_maintenance_seconds",
    "Time a maintenance pass spent on one table (expiry, compaction and orphan cleanup)",
    buckets=DURATION_BUCKETS,
)

# --- state, read at scrape time ----------------------------------------------------------------------------
# A gauge function returns one value, or a mapping of label values (a tuple, in the order of ``labels``) to
# values.
GaugeValue = float | Mapping[tuple[str, ...], float]


@dataclass(frozen=True)
class ScrapeGauge:
    name: str
    documentation: str
    read: Callable[[], GaugeValue]
    labels: tuple[str, ...] = ()


_gauges: dict[str, ScrapeGauge] = {}


def gauge_register(
    name: str, documentation: str, read: Callable[[], GaugeValue], *, labels: Sequence[str] = ()
) -> None:
    """Serve ``read()`` as gauge ``name`` on /metrics, computed at scrape time. Registering a name again
    replaces it (``AppConfig.ready()`` may run more than once in tests)."""
    _gauges[name] = ScrapeGauge(name, documentation, read, tuple(labels))


def gauge_unregister(name: str) -> None:
    _gauges.pop(name, None)


def registered_gauges() -> list[str]:
    return sorted(_gauges)


def _broker_client() -> redis.Redis:
    timeout = float(settings.AURUM_HEALTH_TIMEOUT_SECONDS)
    return redis.Redis.from_url(
        settings.CELERY_BROKER_URL, socket_connect_timeout=timeout, socket_timeout=timeout
    )


# Celery's Redis transport keeps a queue's messages of priority 0 under its name and those of the other
# priority steps (3, 6, 9) under ``name + "\x06\x16" + step``.
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


def celery_queue_depths() -> dict[tuple[str, ...], float]:
    """Messages waiting in each Celery queue (aurum/queues.py), not counting those a worker has reserved."""
    pipe = _broker_client().pipeline(transaction=False)
    for queue in QUEUES:
        for suffix in _PRIORITY_SUFFIXES:
            pipe.llen(queue + suffix)
    lengths = pipe.execute()
    step = len(_PRIORITY_SUFFIXES)
    return {(queue,): float(sum(lengths[i * step : (i + 1) * step])) for i, queue in enumerate(QUEUES)}


gauge_register(
    "aurum_celery_queue_depth",
    "Messages waiting in a Celery queue (Redis LLEN), by queue",
    celery_queue_depths,
    labels=("queue",),
)


class ScrapeCollector(Collector):
    """The registered gauges, computed at most once per ``AURUM_METRICS_SCRAPE_CACHE_SECONDS`` per process.

    A gauge whose function fails is left out of that scrape and ``aurum_scrape_gauge_ok{gauge}`` says 0: the
    rest of /metrics is still served when one dependency is down.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._at = float("-inf")
        self._families: list[GaugeMetricFamily] = []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            if time.monotonic() - self._at >= float(settings.AURUM_METRICS_SCRAPE_CACHE_SECONDS):
                self._families = self._compute()
                self._at = time.monotonic()
            families = list(self._families)
        yield from families

    def _compute(self) -> list[GaugeMetricFamily]:
        families = []
        health = GaugeMetricFamily(
            "aurum_scrape_gauge_ok",
            "1 when a scrape-time gauge was computed, 0 when it failed",
            labels=["gauge"],
        )
        for gauge in list(_gauges.values()):
            try:
                value = gauge.read()
            except Exception as exc:  # noqa: BLE001 - one failing source must not take /metrics down
                log.warning(
                    "metrics: gauge not computed", gauge=gauge.name, error=f"{type(exc).__name__}: {exc}"
                )
                health.add_metric([gauge.name], 0.0)
                continue
            health.add_metric([gauge.name], 1.0)
            family = GaugeMetricFamily(gauge.name, gauge.documentation, labels=list(gauge.labels))
            if isinstance(value, Mapping):
                for label_values, number in sorted(value.items()):
                    family.add_metric(list(label_values), float(number))
            else:
                family.add_metric([], float(value))
            families.append(family)
        return [*families, health]


_scrape_registry = CollectorRegistry(auto_describe=False)
_scrape_registry.register(ScrapeCollector())


def events_registry() -> CollectorRegistry:
    """The counters and histograms of every process of this server (multiprocess mode), or this process's."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def metrics_exposition(*, with_state: bool = True) -> bytes:
    """The Prometheus text exposition: the events of every process, then (web) the scrape-time gauges."""
    body = generate_latest(events_registry())
    if with_state:
        body += generate_latest(_scrape_registry)
    return body


def worker_metrics_serve(port: int) -> None:
    """Serve this worker's events on ``port`` (``AURUM_WORKER_METRICS_PORT``): a worker is not an HTTP server,
    and its tasks' counters live in its own processes. The state gauges are the web's to serve."""
    try:
        start_http_server(port, registry=events_registry())
    except OSError as exc:
        # SystemExit, not an exception Celery's signal dispatch would log and swallow: a worker told to serve
        # metrics that cannot must not run unseen (or beside another process answering on its port).
        raise SystemExit(f"AURUM_WORKER_METRICS_PORT={port}: cannot serve metrics ({exc})") from exc
    log.info("worker metrics served", port=port, multiprocess=bool(os.environ.get(MULTIPROC_ENV)))


def process_dead(pid: int) -> None:
    """Forget a finished process's live gauges (multiprocess mode); its counters stay counted."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)
