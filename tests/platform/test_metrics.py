"""Domain metrics on /metrics: scrape-time gauges (queue depth, outbox backlog, dataset lateness, readiness,
gauges apps register), the counters of several processes added up, and tracing off by default."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from kombu import Connection

from aurum.celery import app
from aurum.events.models import OutboxEvent
from aurum.observability.metrics import gauge_register, gauge_unregister
from aurum.queues import QUEUES
from tests.support.observability import parse_exposition, scrape, value
from tests.support.paths import REPO


@pytest.fixture
def private_broker(settings):
    """A Redis database of its own as the broker: messages put there stay (no worker reads it)."""
    number = 15 - int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    url = urlunsplit(urlsplit(settings.REDIS_URL)._replace(path=f"/{number}"))
    settings.CELERY_BROKER_URL = url
    with Connection(url) as connection:
        connection.default_channel.client.flushdb()
        yield connection
        connection.default_channel.client.flushdb()


def test_queue_depth_counts_the_messages_waiting_in_each_queue(api, private_broker):
    for _ in range(3):
        app.send_task("feeds.metrics_probe", queue="feeds", connection=private_broker)
    app.send_task("ingestion.metrics_probe", queue="ingest", connection=private_broker)

    samples = scrape(api)

    depths = {queue: value(samples, "aurum_celery_queue_depth", queue=queue) for queue in QUEUES}
    assert depths == {"ingest": 1, "scenarios": 0, "webhooks": 0, "feeds": 3, "maintenance": 0, "backfill": 0}


def test_outbox_backlog_counts_events_not_yet_relayed(world, api):
    before = value(scrape(api), "aurum_outbox_backlog")
    OutboxEvent.objects.create(tenant_schema="acme", event_type="metrics.probe", payload={})
    OutboxEvent.objects.create(
        tenant_schema="acme", event_type="metrics.probe", payload={}, relayed_at=datetime.now(UTC)
    )

    assert value(scrape(api), "aurum_outbox_backlog") == before + 1


def test_readiness_and_every_dataset_contract_are_on_metrics(world, api):
    samples = scrape(api)

    checks = {dict(labels)["check"] for name, labels in samples if name == "aurum_readiness_ok"}
    datasets = {dict(labels)["dataset"] for name, labels in samples if name == "aurum_dataset_late_seconds"}
    assert checks == {"postgres", "redis", "warehouse", "worker"}
    assert value(samples, "aurum_readiness_ok", check="postgres") == 1
    assert value(samples, "aurum_scrape_gauge_ok", gauge="aurum_dataset_late_seconds") == 1
    assert {"vendor:EUGP", "feed:fred:DGS10"} <= datasets
    assert all(value(samples, "aurum_dataset_late_seconds", dataset=d) >= 0 for d in datasets)


def test_lateness_counts_from_the_contracts_due_time_of_the_latest_publication(world):
    from apps.datasets.registry import CONTRACTS
    from apps.datasets.selectors import dataset_lateness_seconds

    # Tuesday 8 July 2025 12:00 UTC: the EOD contracts' latest due publication is Monday 7 July's, expected
    # 14:30 London (13:30 UTC in summer time) and due 150 minutes later, 16:00 UTC: 20 hours ago. The test
    # world has no published EOD run of that day.
    late = dataset_lateness_seconds(now=datetime(2025, 7, 8, 12, 0, tzinfo=UTC))
    before_due = dataset_lateness_seconds(now=datetime(2025, 7, 7, 15, 59, tzinfo=UTC))

    assert late[("vendor:PW",)] == late[("vendor:EUGP",)] == 20 * 3600
    # A minute before Monday's is due, the latest due is Friday 4 July's, late since Friday 16:00 UTC.
    assert before_due[("vendor:PW",)] == 3 * 24 * 3600 - 60
    assert set(late) == {(dataset,) for dataset in CONTRACTS}  # every contract, feeds too


def test_an_app_registers_a_gauge_and_a_failing_one_leaves_the_rest_served(api):
    def broken() -> float:
        raise ConnectionError("receiver database unreachable")

    gauge_register(
        "aurum_test_pending", "A registered gauge", lambda: {("a",): 2.0, ("b",): 5.0}, labels=["kind"]
    )
    gauge_register("aurum_test_broken", "A gauge whose source is down", broken)
    try:
        samples = scrape(api)
    finally:
        gauge_unregister("aurum_test_pending")
        gauge_unregister("aurum_test_broken")

    assert (
        value(samples, "aurum_test_pending", kind="a"),
        value(samples, "aurum_test_pending", kind="b"),
    ) == (2, 5)
    assert value(samples, "aurum_scrape_gauge_ok", gauge="aurum_test_broken") == 0
    assert ("aurum_test_broken", frozenset()) not in samples
    assert value(samples, "aurum_scrape_gauge_ok", gauge="aurum_celery_queue_depth") == 1
    assert ("aurum_test_pending", frozenset({("kind", "a")})) not in scrape(api)


_COUNT = """
import django, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "aurum.settings.test"
django.setup()
from aurum.observability.metrics import INGEST_ROWS
INGEST_ROWS.labels(dataset="vendor:MP", outcome="succeeded").inc(int(sys.argv[1]))
"""
_EXPOSE = """
import django, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "aurum.settings.test"
django.setup()
from aurum.observability.metrics import metrics_exposition
sys.stdout.write(metrics_exposition(with_state=False).decode())
"""


def test_counters_of_several_processes_add_up_in_multiprocess_mode(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for rows in (5, 7):
        subprocess.run([sys.executable, "-c", _COUNT, str(rows)], env=env, cwd=REPO, check=True)

    exposed = subprocess.run(
        [sys.executable, "-c", _EXPOSE], env=env, cwd=REPO, check=True, capture_output=True, text=True
    ).stdout

    samples = parse_exposition(exposed)
    assert value(samples, "aurum_ingest_rows_total", dataset="vendor:MP", outcome="succeeded") == 12


_PROVIDER = """
import os
os.environ["DJANGO_SETTINGS_MODULE"] = "aurum.settings.test"
import aurum.wsgi
from django.conf import settings
from opentelemetry import trace
print(type(trace.get_tracer_provider()).__name__, any("opentelemetry" in m for m in settings.MIDDLEWARE))
"""


@pytest.mark.parametrize(
    ("exporter", "expected"), [(None, "ProxyTracerProvider False"), ("console", "TracerProvider True")]
)
def test_tracing_is_off_unless_an_exporter_is_named(exporter, expected):
    env = {k: v for k, v in os.environ.items() if k != "AURUM_OTEL_EXPORTER"}
    if exporter:
        env["AURUM_OTEL_EXPORTER"] = exporter

    printed = subprocess.run(
        [sys.executable, "-c", _PROVIDER], env=env, cwd=REPO, check=True, capture_output=True, text=True
    ).stdout

    assert printed.strip().splitlines()[-1] == expected
    assert settings.AURUM_OTEL_EXPORTER == "none"
