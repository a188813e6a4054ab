"""Ways in: API upload (202, a real worker finishes it), ingest_eod command, drop folder; and the events."""

import hashlib
import io
import os
import time
from datetime import date
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command

from apps.ingestion.api.views import MULTIPART_ALLOWANCE_BYTES
from apps.ingestion.models import IngestRun
from apps.ingestion.services import ingest_drop_folder_scan, ingest_run_create, ingest_run_execute
from aurum.events.publish import tenant_group
from tests.support.paths import EOD_DIR
from tests.support.workbooks import eugp_workbook, rp_workbook


def _upload(api, world_tenant, role, data: bytes, name: str, **extra):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return api.post(
        "/api/v2/ingest/runs",
        {"file": SimpleUploadedFile(name, data), **extra},
        format="multipart",
        **world_tenant.auth(role),
    )


@pytest.mark.live
def test_upload_answers_202_and_a_real_worker_publishes_it(committed_world, api, celery_worker):
    data = eugp_workbook(asof=date(2024, 4, 2))
    response = _upload(api, committed_world.ops, "trader", data, "EOD_EUGP_20240402_1430.xlsx")
    run_id = response.json().get("data", {}).get("id")
    try:
        assert response.status_code == 202, response.content
        assert response["Location"] == f"/api/v2/ingest/runs/{run_id}"
        assert response.json()["data"]["status"] == "queued"
        deadline = time.monotonic() + 60
        while True:
            run = api.get(response["Location"], **committed_world.ops.auth("viewer")).json()["data"]
            if run["status"] not in ("queued", "running") or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert run["status"] == "succeeded", run
        assert run["asof_date"] == "2024-04-02"
        assert (run["file_stamp"], run["file_stamp_source"]) == ("2024-04-02T14:30:00Z", "file_name")
        assert run["rows_published"] > 0
        assert run["snapshot_id"] is not None
        assert run["attempts"] == 1
    finally:
        IngestRun.objects.filter(pk=run_id).delete()


def test_only_operators_with_curves_write_may_upload(world, api):
    data = eugp_workbook(asof=date(2024, 4, 3))
    name = "EOD_EUGP_20240403_1430.xlsx"

    customer = _upload(api, world.acme, "admin", data, name)
    viewer = _upload(api, world.ops, "viewer", data, name)

    assert customer.status_code == 403
    assert customer["Content-Type"] == "application/problem+json"
    assert "operators" in customer.json()["detail"]
    assert viewer.status_code == 403
    assert not IngestRun.objects.filter(file_name=name).exists()


def test_upload_of_known_bytes_answers_200_with_the_earlier_run(world, api):
    data = eugp_workbook(asof=date(2024, 4, 4))
    first = ingest_run_create(data=data, file_name="EOD_EUGP_20240404_1430.xlsx", source="command")
    ingest_run_execute(run_id=first.run.pk)

    response = _upload(api, world.ops, "trader", data, "EOD_EUGP_20240404_1430.xlsx")

    assert response.status_code == 200
    assert response.json()["data"]["id"] == first.run.pk


def test_upload_over_the_limit_is_a_413_problem_refused_unread(world, api, settings):
    settings.AURUM_INGEST_MAX_BYTES = 100
    data = b"x" * 101
    response = _upload(api, world.ops, "trader", data, "EOD_EUGP_20240405_1430.xlsx")

    run = IngestRun.objects.get(file_name="EOD_EUGP_20240405_1430.xlsx")
    problem = response.json()
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert problem["type"] == "https://aurum.dev/problems/file-too-large"
    assert problem["detail"] == (
        "'EOD_EUGP_20240405_1430.xlsx' is 101 bytes; the limit is 100 bytes. "
        "It was refused unread and not kept."
    )
    assert (problem["run_id"], problem["limit_bytes"]) == (run.pk, 100)
    assert (run.status, run.error_code, run.sha256, run.raw_uri, run.size_bytes) == (
        "failed",
        "file_too_large",
        "",
        "",
        101,
    )
    assert not _raw_folder(data).exists()  # never stored


def test_a_request_body_far_over_the_limit_is_refused_before_it_is_parsed(world, api, settings):
    settings.AURUM_INGEST_MAX_BYTES = 100
    data = b"x" * (100 + MULTIPART_ALLOWANCE_BYTES + 1)

    response = _upload(api, world.ops, "trader", data, "EOD_EUGP_20240415_1430.xlsx")

    assert response.status_code == 413
    assert response.json()["detail"] == "The request body is larger than the 100-byte file limit allows."
    assert not IngestRun.objects.filter(file_name="EOD_EUGP_20240415_1430.xlsx").exists()
    assert not _raw_folder(data).exists()


# The token with its membership, user, tenant and plan, then the page: the same for any page size (the
# connection already has the tenant's search path from the request before, decision 0057)
QUERIES_PER_PAGE = 2


def _raw_folder(data: bytes) -> Path:
    from django.conf import settings

    sha256 = hashlib.sha256(data).hexdigest()
    return Path(settings.AURUM_WAREHOUSE.removeprefix("file://")) / "raw" / sha256[:2] / sha256


def test_runs_are_visible_only_for_licensed_datasets(world, api):
    rp = ingest_run_create(data=rp_workbook(), file_name="EOD_RP_20250912_1430.xlsx", source="command").run
    eugp = ingest_run_create(
        data=eugp_workbook(asof=date(2024, 4, 6)), file_name="EOD_EUGP_20240406_1430.xlsx", source="command"
    ).run

    globex = api.get("/api/v2/ingest/runs", {"limit": 100}, **world.globex.auth("viewer")).json()["data"]
    acme = api.get("/api/v2/ingest/runs", {"limit": 100}, **world.acme.auth("viewer")).json()["data"]
    globex_ids, acme_ids = {r["id"] for r in globex}, {r["id"] for r in acme}

    assert eugp.pk in globex_ids and rp.pk not in globex_ids
    assert {eugp.pk, rp.pk} <= acme_ids
    assert api.get(f"/api/v2/ingest/runs/{rp.pk}", **world.globex.auth("viewer")).status_code == 404


def test_ingest_eod_command_ingests_a_date_range_with_progress(world):
    out = io.StringIO()

    call_command("ingest_eod", str(EOD_DIR), "--from", "2025-09-11", "--to", "2025-09-11", stdout=out)

    text = out.getvalue()
    assert "EOD_EUGP_20250911_1430.xlsx" in text
    assert "EOD_RP_20250911_1430.xlsx" in text
    assert "EOD_EUGP_20250912_1430.xlsx" not in text
    assert "[########################]    2/2" in text
    assert "2 ingested, 0 already there, 0 failed" in text
    assert IngestRun.objects.filter(asof_date=date(2025, 9, 11), status="succeeded").count() == 2


def test_drop_folder_files_are_queued_and_moved(world, tmp_path):
    good = tmp_path / "EOD_EUGP_20240407_1430.xlsx"
    good.write_bytes(eugp_workbook(asof=date(2024, 4, 7)))
    old = time.time() - 60
    os.utime(good, (old, old))
    fresh = tmp_path / "EOD_EUGP_20240408_1430.xlsx"
    fresh.write_bytes(b"still being copied")

    runs = ingest_drop_folder_scan(folder=tmp_path)

    assert [r.file_name for r in runs] == [good.name]
    assert (tmp_path / ".done" / good.name).exists()
    assert not good.exists()
    assert fresh.exists()  # written seconds ago: left for the next scan


def test_a_dropped_file_over_the_limit_is_set_aside_unread(world, tmp_path, settings):
    settings.AURUM_INGEST_MAX_BYTES = 1000
    big = tmp_path / "EOD_EUGP_20240409_1430.xlsx"
    big.write_bytes(b"x" * 1001)
    old = time.time() - 60
    os.utime(big, (old, old))

    runs = ingest_drop_folder_scan(folder=tmp_path)

    refused = IngestRun.objects.get(file_name=big.name)
    assert runs == []
    assert (refused.status, refused.error_code, refused.source, refused.raw_uri) == (
        "failed",
        "file_too_large",
        "drop_folder",
        "",
    )
    assert (tmp_path / ".failed" / big.name).read_bytes() == b"x" * 1001
    assert (tmp_path / ".failed" / f"{big.name}.error").read_text() == refused.error_message
    assert not _raw_folder(b"x" * 1001).exists()


def test_completed_ingest_is_announced_to_licensed_tenants_only(world, django_capture_on_commit_callbacks):
    # Our own layer instance: the shared one may be receiving in the live ASGI server's loop.
    from channels import DEFAULT_CHANNEL_LAYER
    from channels.layers import channel_layers

    layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
    channels = {}
    for schema in ("acme", "globex", "ops"):
        channels[schema] = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(tenant_group(schema), channels[schema])
    created = ingest_run_create(data=rp_workbook(), file_name="EOD_RP_20240409_1430.xlsx", source="command")

    with django_capture_on_commit_callbacks(execute=True):
        run = ingest_run_execute(run_id=created.run.pk)

    def next_event(schema: str, timeout: float = 2.0):
        import asyncio

        async def receive():
            return await asyncio.wait_for(layer.receive(channels[schema]), timeout)

        try:
            return async_to_sync(receive)()
        except TimeoutError:
            return None

    acme, ops, globex = next_event("acme"), next_event("ops"), next_event("globex", timeout=0.5)
    assert acme["event"]["type"] == "ingestion.completed"
    assert acme["event"]["data"]["run_id"] == run.pk
    assert acme["event"]["data"]["dataset"] == "vendor:RP"
    assert ops["event"]["data"]["run_id"] == run.pk
    assert globex is None  # globex is licensed for EUGP only


def test_the_runs_list_pages_with_cursors_an_etag_and_a_fixed_query_count(
    world, api, django_assert_num_queries
):
    runs = [
        ingest_run_create(
            data=eugp_workbook(asof=date(2024, 4, 20 + n)),
            file_name=f"EOD_EUGP_202404{20 + n}_1430.xlsx",
            source="api",
        ).run
        for n in range(3)
    ]
    auth = world.ops.auth("viewer")
    api.get("/api/v2/ingest/runs", {"limit": 1}, **auth)  # a token's first request of the minute stamps it

    with django_assert_num_queries(QUERIES_PER_PAGE):
        first = api.get("/api/v2/ingest/runs", {"limit": 2}, **auth)
    second = api.get(first.json()["links"]["next"], **auth)
    # One page of everything: its ETag covers no cursor (a cursor carries the time it was issued at).
    whole = api.get("/api/v2/ingest/runs", {"limit": 100}, **auth)
    again = api.get("/api/v2/ingest/runs", {"limit": 100}, HTTP_IF_NONE_MATCH=whole["ETag"], **auth)

    newest_first = [run.pk for run in reversed(runs)]
    assert [r["id"] for r in first.json()["data"]] == newest_first[:2]
    assert second.json()["data"][0]["id"] == newest_first[2]
    assert first["Cache-Control"].startswith("private")
    assert 'rel="next"' in first["Link"]
    assert again.status_code == 304
