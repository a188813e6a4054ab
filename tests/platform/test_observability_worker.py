"""One workbook uploaded through the API with an X-Request-Id, tracing on in this (web) process, and run by
the real test worker (tracing on, metrics on its own port): the worker's log lines for the task carry the
request's id, one trace runs from the request through the publish and the task to the Iceberg commit, and the
worker's metrics count the run and its rows. The module commits one run and deletes it at the end."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from apps.ingestion.models import IngestRun
from tests.support.observability import (
    Samples,
    names,
    scrape_worker,
    tracing_to,
    value,
    wait_for_spans,
    worker_spans_path,
)
from tests.support.workbooks import eugp_workbook

pytestmark = pytest.mark.live

TASK = "ingestion.run_execute"


@dataclass
class Uploaded:
    request_id: str
    run: dict[str, Any]
    web_spans: Path
    before: Samples
    after: Samples


@pytest.fixture(scope="module")
def uploaded(
    session_world: Any, celery_worker: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Uploaded]:
    api = APIClient()
    request_id = f"test-{uuid.uuid4().hex}"
    web_spans = tmp_path_factory.mktemp("spans") / "web.jsonl"
    ops = session_world.ops
    before = scrape_worker()
    with django_db_blocker.unblock():
        with tracing_to(web_spans):
            response = APIClient().post(
                "/api/v2/ingest/runs",
                {
                    "file": SimpleUploadedFile(
                        "EOD_EUGP_20240514_1430.xlsx", eugp_workbook(asof=date(2024, 5, 14))
                    )
                },
                format="multipart",
                HTTP_X_REQUEST_ID=request_id,
                **ops.auth("trader"),
            )
        assert response.status_code == 202, response.content
        location = response["Location"]
        deadline = time.monotonic() + 60
        while True:
            run = api.get(location, **ops.auth("viewer")).json()["data"]
            if run["status"] not in ("queued", "running") or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        try:
            # The run's row is saved before the task returns, and it counts the run on its way out: scrape
            # once the task's last log line is written.
            _task_log_lines(request_id)
            yield Uploaded(request_id, run, web_spans, before, scrape_worker())
        finally:
            IngestRun.objects.filter(pk=run["id"]).delete()


def test_the_run_succeeded(uploaded):
    assert uploaded.run["status"] == "succeeded", uploaded.run
    assert uploaded.run["rows_published"] > 0


def _task_log_lines(request_id: str) -> list[dict[str, Any]]:
    """The worker's log lines of the ingest task sent by the request, once the task's last line is written
    (the run's row is saved before its last log lines)."""
    log = Path(settings.VAR_DIR) / "test-worker.log"
    deadline = time.monotonic() + 30
    while True:
        records = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        ids = {
            r.get("task_id") for r in records if r.get("task") == TASK and r.get("request_id") == request_id
        }
        lines = [r for r in records if r.get("task_id") in ids]
        if any(r["event"].startswith(f"Task {TASK}[") for r in lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.2)


def test_every_log_line_of_the_task_carries_the_request_id(uploaded):
    lines = _task_log_lines(uploaded.request_id)

    assert {"ingest run finished", "ingest run published"} & {r["event"] for r in lines}
    assert any(r["event"].startswith(f"Task {TASK}[") and "succeeded" in r["event"] for r in lines)
    assert {r.get("request_id") for r in lines} == {uploaded.request_id}
    assert {(r["task"], r["tenant"]) for r in lines} == {(TASK, "ops")}


def test_one_trace_from_the_request_through_the_task_to_the_iceberg_commit(uploaded):
    web = wait_for_spans(uploaded.web_spans, lambda spans: any(s["kind"] == "SpanKind.SERVER" for s in spans))
    request_span = next(
        s
        for s in web
        if s["kind"] == "SpanKind.SERVER" and s["attributes"].get("http.route", "").endswith("runs")
    )
    trace_id = request_span["context"]["trace_id"]
    publish = next(s for s in web if s["name"] == f"apply_async/{TASK}")
    assert publish["context"]["trace_id"] == trace_id

    def complete(spans: list[dict[str, Any]]) -> bool:
        return any(
            s["name"] == f"run/{TASK}" and s["context"]["trace_id"] == trace_id for s in spans
        ) and any(s["name"] == "lakehouse.overwrite" and s["context"]["trace_id"] == trace_id for s in spans)

    worker = [
        s for s in wait_for_spans(worker_spans_path(), complete) if s["context"]["trace_id"] == trace_id
    ]
    task = next(s for s in worker if s["name"] == f"run/{TASK}")
    assert task["parent_id"] == publish["context"]["span_id"]
    assert task["resource"]["attributes"]["service.name"] == "aurum-worker"
    commits = {
        s["attributes"]["aurum.lakehouse.table"]: s["attributes"]
        for s in worker
        if s["name"] == "lakehouse.overwrite"
    }
    assert commits["market.curve_observation"]["aurum.lakehouse.rows"] == uploaded.run["rows_published"]
    assert commits["market.curve_observation"]["aurum.lakehouse.engine"] == "pyiceberg"
    assert commits["market.curve_observation"]["aurum.lakehouse.snapshot_id"] == int(
        uploaded.run["snapshot_id"]
    )


def test_the_workers_metrics_count_the_run_and_its_rows(uploaded):
    labels = {"dataset": "vendor:EUGP", "outcome": "succeeded"}

    rows = value(uploaded.after, "aurum_ingest_rows_total", **labels) - value(
        uploaded.before, "aurum_ingest_rows_total", **labels
    )
    runs = value(uploaded.after, "aurum_ingest_duration_seconds_count", **labels) - value(
        uploaded.before, "aurum_ingest_duration_seconds_count", **labels
    )
    assert (rows, runs) == (uploaded.run["rows_published"], 1)


def test_the_worker_serves_its_events_but_not_the_state_gauges(uploaded):
    served = names(uploaded.after)

    assert "aurum_ingest_rows_total" in served
    assert "aurum_celery_queue_depth" not in served
    assert "aurum_outbox_backlog" not in served
