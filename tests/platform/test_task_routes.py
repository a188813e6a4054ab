"""Queues per workload (aurum/queues.py, decision 0030): every task Aurum registers lands on one of the
declared queues, by the workload its name names; the processes that run tasks serve exactly those queues."""

from __future__ import annotations

import pytest

from aurum.celery import app
from aurum.queues import DEFAULT_QUEUE, QUEUES

EXPECTED = {
    "ingestion.run_execute": "ingest",
    "ingestion.drop_folder_scan": "ingest",
    "scenarios.run_execute": "scenarios",
    "scenarios.sweep": "scenarios",
    "events.outbox_relay": "maintenance",
    "events.outbox_prune": "maintenance",
    "watchlists.vintage_published": "maintenance",
    "aurum.health.current_schema": "maintenance",
    # Backfill windows on their own queue, never ahead of the scheduled fetches (decision 0036).
    "backfill.window_run": "backfill",
    "feeds.fetch": "feeds",
    "feeds.schedule": "feeds",
    "datasets.freshness_evaluate": "maintenance",
    "datasets.backfill_sweep": "maintenance",
}


def queue_of(task_name: str) -> str:
    route = app.amqp.router.route({}, task_name)
    return str(route["queue"].name)


def aurum_tasks() -> list[str]:
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


@pytest.mark.parametrize(("task_name", "queue"), sorted(EXPECTED.items()))
def test_a_task_goes_to_its_workloads_queue(task_name: str, queue: str) -> None:
    assert task_name in aurum_tasks()
    assert queue_of(task_name) == queue


def test_every_registered_task_goes_to_a_declared_queue() -> None:
    tasks = aurum_tasks()

    assert len(tasks) >= len(EXPECTED)
    assert {task: queue_of(task) for task in tasks if queue_of(task) not in QUEUES} == {}


def test_a_task_no_rule_names_goes_to_maintenance() -> None:
    assert DEFAULT_QUEUE == "maintenance"
    assert queue_of("somewhere.new_task") == "maintenance"
    assert queue_of("webhooks.deliver") == "webhooks"
    assert queue_of("feeds.fetch_window") == "feeds"
