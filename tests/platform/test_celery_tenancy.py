"""A task runs, in a real worker, in the tenant schema it was sent from."""

import pytest
from django_tenants.utils import schema_context

from aurum.health.tasks import current_schema
from aurum.tenancy.db import tenant_connection

pytestmark = pytest.mark.live


def test_task_runs_in_the_schema_it_was_sent_from(world, celery_worker):
    with schema_context("acme"):
        acme = current_schema.delay()
    with schema_context("globex"):
        globex = current_schema.delay()
    tenant_connection().set_schema_to_public()
    public = current_schema.delay()

    assert acme.get(timeout=30) == "acme"
    assert globex.get(timeout=30) == "globex"
    assert public.get(timeout=30) == "public"


def test_tasks_are_acknowledged_late():
    from aurum.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True


def test_worker_log_lines_carry_the_tenant_and_task(world, celery_worker, settings):
    import json
    import time
    from pathlib import Path

    with schema_context("globex"):
        result = current_schema.delay()
    assert result.get(timeout=30) == "globex"

    log = Path(settings.VAR_DIR) / "test-worker.log"
    deadline = time.monotonic() + 10
    mine: list[dict] = []
    while not mine and time.monotonic() < deadline:
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        mine = [
            line
            for line in lines
            if line.get("task_id") == result.id and line["event"] == "diagnostic task ran"
        ]
        time.sleep(0.1)
    assert len(mine) == 1
    assert mine[0]["tenant"] == "globex"
    assert mine[0]["schema"] == "globex"
    assert mine[0]["task"] == "aurum.health.current_schema"
