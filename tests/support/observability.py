"""Reading /metrics and span files in tests; the test worker's metrics port and span file."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from opentelemetry.test.globals_test import reset_trace_globals
from prometheus_client.parser import text_string_to_metric_families

from aurum.observability.tracing import Tracing, tracing_configure, tracing_shutdown

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class WorkerMetrics:
    """Where the session's test worker (tests/conftest.py celery_worker) serves its metrics: a port chosen
    when the worker starts (one chosen earlier may meanwhile be some connection's local port)."""

    port: int = 0

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url(), timeout=2) as answer:
                return bool(answer.status == 200 and b"aurum_ingest_rows" in answer.read())
        except OSError:
            return False


WORKER_METRICS = WorkerMetrics()


def worker_spans_path() -> Path:
    """Where the session's test worker appends its spans."""
    return Path(settings.VAR_DIR) / "test-worker-spans.jsonl"


def parse_exposition(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(api: Any) -> Samples:
    """The web's /metrics (the test client is on a platform host)."""
    response = api.get("/metrics")
    assert response.status_code == 200, response.status_code
    return parse_exposition(response.content.decode())


def scrape_worker() -> Samples:
    with urllib.request.urlopen(WORKER_METRICS.url(), timeout=10) as answer:
        return parse_exposition(answer.read().decode())


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample's value; 0 for a labelled sample not (yet) exported."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def names(samples: Samples) -> set[str]:
    return {name for name, _ in samples}


@contextmanager
def tracing_to(path: Path) -> Iterator[Tracing]:
    """Tracing on in this process (the web side) with spans appended to ``path``; off again afterwards."""
    tracing = tracing_configure("web", exporter=f"file:{path}")
    assert tracing is not None
    try:
        yield tracing
    finally:
        tracing_shutdown()
        reset_trace_globals()


def read_spans(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for_spans(
    path: Path, found: Callable[[list[dict[str, Any]]], bool], *, timeout: float = 30.0
) -> list[dict[str, Any]]:
    """The spans in ``path`` once ``found`` accepts them (another process exports in batches)."""
    deadline = time.monotonic() + timeout
    while True:
        spans = read_spans(path)
        if found(spans) or time.monotonic() > deadline:
            return spans
        time.sleep(0.2)
