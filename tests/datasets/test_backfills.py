"""Backfills through the API (``/api/v2/backfills``): a dry run lists the windows, a backfill runs one window
per publication period (each claimed once, with its own state), failed-only retry, cancel, a window whose
worker died is queued again by the sweep, only the platform's operators may start one, and each action is in
the operator tenant's audit ledger. EOD workbook folders are backfilled the same way (``manage.py
backfill``)."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.audit.models import AuditEntry
from apps.datasets.models import Backfill, BackfillWindow
from apps.datasets.services.backfills import backfill_sweep, backfill_window_run
from apps.feeds.models import FetchRun, Watermark
from tests.support.feeds import KEYS
from tests.support.paths import FIXTURES

DGS10_WEEK = {"dataset": "feed:fred:DGS10", "from": "2024-04-29", "to": "2024-05-03"}
DAYS = ["2024-04-29", "2024-04-30", "2024-05-01", "2024-05-02", "2024-05-03"]


def _fred(fail_days: frozenset[str] = frozenset()) -> httpx.MockTransport:
    """FRED answering one observation for the asked day (or a 500 for the days in ``fail_days``)."""

    def answer(request: httpx.Request) -> httpx.Response:
        day = request.url.params["observation_start"]
        if day in fail_days:
            return httpx.Response(500, text="upstream down")
        body = {"count": 1, "observations": [{"date": day, "value": "4.5"}]}
        return httpx.Response(200, content=json.dumps(body).encode())

    return httpx.MockTransport(answer)


def _post(api: Any, world: Any, path: str, body: dict[str, Any] | None = None, role: str = "admin") -> Any:
    return api.post(path, body or {}, format="json", **world.ops.auth(role))


def _run_all(backfill_id: int, transport: httpx.BaseTransport) -> None:
    with override_settings(**KEYS, AURUM_FEEDS_RETRIES=0):
        for window_id in BackfillWindow.objects.filter(backfill_id=backfill_id, status="queued").values_list(
            "pk", flat=True
        ):
            backfill_window_run(window_id=window_id, transport=transport)


def test_a_dry_run_lists_the_windows_and_records_nothing(world, api):
    answer = _post(api, world, "/api/v2/backfills", {**DGS10_WEEK, "dry_run": True})

    assert answer.status_code == 200, answer.content
    body = answer.json()["data"]
    assert (body["count"], body["dry_run"]) == (5, True)
    assert [w["window_start"][:10] for w in body["windows"]] == DAYS
    assert body["windows"][0] == {
        "window_start": "2024-04-29T00:00:00Z",
        "window_end": "2024-04-30T00:00:00Z",
        "source_file": None,
    }
    assert Backfill.objects.count() == 0


def test_a_backfill_runs_each_window_and_records_its_outcome(world, api, feed_lake):
    created = _post(api, world, "/api/v2/backfills", DGS10_WEEK)
    backfill_id = created.json()["data"]["id"]

    _run_all(backfill_id, _fred())
    detail = api.get(f"/api/v2/backfills/{backfill_id}", **world.ops.auth("viewer"))

    assert created.status_code == 202, created.content
    assert created["Location"] == f"/api/v2/backfills/{backfill_id}"
    assert created.json()["data"]["windows_by_status"] == {"queued": 5}
    body = detail.json()["data"]
    assert (body["status"], body["windows_by_status"]) == ("succeeded", {"succeeded": 5})
    runs = FetchRun.objects.filter(provider="FRED", dataset="DGS10").order_by("window_start")
    assert [w["fetch_run"] for w in body["windows"]] == [r.pk for r in runs]
    assert [(r.window_start.date().isoformat(), r.rows) for r in runs] == [(d, 1) for d in DAYS]
    assert (
        Watermark.objects.get(provider="FRED", dataset="DGS10").fetched_until.date().isoformat()
        == "2024-05-04"
    )
    with schema_context("ops"):
        entry = AuditEntry.objects.get(action="backfill.create", resource_id=str(backfill_id))
    assert json.loads(entry.changes) == {
        "dataset": "feed:fred:DGS10",
        "from": "2024-04-29",
        "to": "2024-05-03",
        "windows": 5,
    }


def test_retry_runs_the_failed_windows_only(world, api, feed_lake):
    backfill_id = _post(api, world, "/api/v2/backfills", DGS10_WEEK).json()["data"]["id"]
    _run_all(backfill_id, _fred(fail_days=frozenset({"2024-05-01"})))
    failed = api.get(f"/api/v2/backfills/{backfill_id}", **world.ops.auth("viewer")).json()["data"]
    runs_before = {w["window_start"][:10]: w["fetch_run"] for w in failed["windows"]}

    retried = _post(api, world, f"/api/v2/backfills/{backfill_id}/retry")
    _run_all(backfill_id, _fred())
    done = api.get(f"/api/v2/backfills/{backfill_id}", **world.ops.auth("viewer")).json()["data"]
    again = _post(api, world, f"/api/v2/backfills/{backfill_id}/retry")

    assert (failed["status"], failed["windows_by_status"]) == ("failed", {"failed": 1, "succeeded": 4})
    [bad] = [w for w in failed["windows"] if w["status"] == "failed"]
    assert (bad["window_start"][:10], bad["error_code"]) == ("2024-05-01", "http_500")
    assert retried.status_code == 202
    assert retried.json()["data"]["windows_by_status"] == {"queued": 1, "succeeded": 4}
    assert (done["status"], done["windows_by_status"]) == ("succeeded", {"succeeded": 5})
    runs_after = {w["window_start"][:10]: w["fetch_run"] for w in done["windows"]}
    assert {d: r for d, r in runs_after.items() if d != "2024-05-01"} == {
        d: r for d, r in runs_before.items() if d != "2024-05-01"
    }  # the succeeded windows were not fetched again
    assert runs_after["2024-05-01"] != runs_before["2024-05-01"]
    assert [w["attempts"] for w in done["windows"]] == [1, 1, 2, 1, 1]
    assert again.status_code == 409


def test_cancel_stops_the_windows_not_started(world, api, feed_lake):
    backfill_id = _post(api, world, "/api/v2/backfills", DGS10_WEEK).json()["data"]["id"]
    first = BackfillWindow.objects.filter(backfill_id=backfill_id).order_by("window_start").first()
    assert first is not None
    with override_settings(**KEYS):
        backfill_window_run(window_id=first.pk, transport=_fred())

    cancelled = _post(api, world, f"/api/v2/backfills/{backfill_id}/cancel")
    late_claim = [
        backfill_window_run(window_id=w.pk, transport=_fred())
        for w in BackfillWindow.objects.filter(backfill_id=backfill_id)
    ]
    twice = _post(api, world, f"/api/v2/backfills/{backfill_id}/cancel")

    assert cancelled.status_code == 200
    body = cancelled.json()["data"]
    assert (body["status"], body["windows_by_status"]) == ("cancelled", {"cancelled": 4, "succeeded": 1})
    assert late_claim == [None] * 5  # nothing left to claim
    assert FetchRun.objects.filter(provider="FRED", dataset="DGS10").count() == 1
    assert twice.status_code == 409
    with schema_context("ops"):
        assert AuditEntry.objects.filter(action="backfill.cancel", resource_id=str(backfill_id)).count() == 1


def test_a_window_whose_worker_died_is_queued_again_by_the_sweep(world, api, feed_lake, settings):
    backfill_id = _post(api, world, "/api/v2/backfills", {**DGS10_WEEK, "to": "2024-04-29"}).json()["data"][
        "id"
    ]
    window = BackfillWindow.objects.get(backfill_id=backfill_id)
    # A worker claimed it and died: running, claimed long ago.
    BackfillWindow.objects.filter(pk=window.pk).update(
        status="running", attempts=1, claimed_at=timezone.now() - timedelta(hours=1)
    )
    settings.AURUM_BACKFILL_CLAIM_TIMEOUT_SECONDS = 1800

    before = backfill_window_run(window_id=window.pk, transport=_fred())  # a redelivery cannot take it
    swept = backfill_sweep(now=timezone.now())
    fresh = backfill_sweep(now=timezone.now())  # a claim younger than the timeout is left alone
    window.refresh_from_db()
    queued = (window.status, window.error_code, window.attempts)
    with override_settings(**KEYS):
        after = backfill_window_run(window_id=window.pk, transport=_fred())

    assert before is None
    assert (swept, fresh) == (1, 0)
    assert queued == ("queued", "claim_expired", 1)
    assert after is not None and (after.status, after.attempts, after.error_code) == ("succeeded", 2, "")


def test_only_operators_backfill_and_bad_input_is_a_clear_400(world, api, settings):
    settings.AURUM_BACKFILL_MAX_WINDOWS = 3
    customer = api.post("/api/v2/backfills", DGS10_WEEK, format="json", **world.acme.auth("admin"))
    viewer = _post(api, world, "/api/v2/backfills", DGS10_WEEK, role="viewer")
    reversed_ = _post(
        api, world, "/api/v2/backfills", {**DGS10_WEEK, "from": "2024-05-03", "to": "2024-04-29"}
    )
    too_many = _post(api, world, "/api/v2/backfills", DGS10_WEEK)
    unknown = _post(api, world, "/api/v2/backfills", {**DGS10_WEEK, "dataset": "feed:fred:NOPE"})
    extra = _post(api, world, "/api/v2/backfills", {**DGS10_WEEK, "priority": 1})
    acme_list = api.get("/api/v2/backfills", **world.acme.auth("admin"))

    assert customer.status_code == 403
    assert viewer.status_code == 403  # the token's permissions, not only the tenant
    assert reversed_.status_code == 400 and reversed_.json()["errors"][0]["field"] == "to"
    assert too_many.status_code == 400 and "at most 3" in too_many.json()["detail"]
    assert unknown.status_code == 404
    assert extra.status_code == 400
    assert acme_list.status_code == 403
    assert Backfill.objects.count() == 0


def test_another_tenant_never_sees_a_backfill(world, api):
    backfill_id = _post(api, world, "/api/v2/backfills", DGS10_WEEK).json()["data"]["id"]

    seen = api.get(f"/api/v2/backfills/{backfill_id}", **world.acme.auth("admin"))
    retry = api.post(f"/api/v2/backfills/{backfill_id}/retry", **world.acme.auth("admin"))
    cancel = api.post(f"/api/v2/backfills/{backfill_id}/cancel", **world.acme.auth("admin"))

    assert (seen.status_code, retry.status_code, cancel.status_code) == (404, 404, 404)
    assert Backfill.objects.get(pk=backfill_id).status == "running"


def test_an_eod_folder_is_backfilled_one_window_per_day(world, tmp_path: Path, feed_lake):
    from apps.ingestion.models import IngestRun

    folder = tmp_path / "eod"
    folder.mkdir()
    for name in ("EOD_EUGP_20250701_1430.xlsx", "EOD_EUGP_20250703_1430.xlsx"):
        shutil.copy(FIXTURES / "eod" / name, folder / name)

    call_command(
        "backfill",
        "vendor:EUGP",
        "--from",
        "2025-07-01",
        "--to",
        "2025-07-03",
        "--folder",
        str(folder),
        "--inline",
        "--operator",
        "ops",
    )

    backfill = Backfill.objects.get()
    windows = list(backfill.windows.order_by("window_start"))
    assert [(w.window_start.date().isoformat(), w.status, w.error_code) for w in windows] == [
        ("2025-07-01", "succeeded", ""),
        ("2025-07-02", "failed", "no_file"),
        ("2025-07-03", "succeeded", ""),
    ]
    runs = IngestRun.objects.filter(pk__in=[w.ingest_run_id for w in windows if w.ingest_run_id])
    assert sorted((str(r.asof_date), r.status) for r in runs) == [
        ("2025-07-01", "succeeded"),
        ("2025-07-03", "succeeded"),
    ]
    assert backfill.status == "failed"
    # The missing day's workbook arrives; a retry runs that window only.
    shutil.copy(FIXTURES / "eod" / "EOD_EUGP_20250702_1430.xlsx", folder)
    call_command("backfill", "--retry", str(backfill.pk), "--inline", "--operator", "ops")
    backfill.refresh_from_db()
    assert backfill.status == "succeeded"
    assert (
        IngestRun.objects.filter(dataset="vendor:EUGP", asof_date="2025-07-02", status="succeeded").count()
        == 1
    )
