"""/ingestion/: operators upload workbooks and follow the runs; every tenant sees its datasets' freshness and
the runs of the datasets it licenses; quarantine review lists each held-back row with its reasons."""

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.support.lake import eod, private_lake
from tests.support.workbooks import eugp_workbook

EOD_FILE = eod("EUGP", date(2025, 7, 7))


def _upload(client, *files, json_answer=True):
    headers = {"HTTP_ACCEPT": "application/json"} if json_answer else {}
    return client.post("/ingestion/upload/", {"files": list(files)}, **headers)


def _workbook(name: str = EOD_FILE.name, data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data if data is not None else EOD_FILE.read_bytes())


def _run_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<a href="/ingestion/runs/(\d+)/">#\d+</a>', html)]


def test_an_operator_sees_every_run_and_the_upload_form(portal, lake):
    html = portal("ops", "trader").get("/ingestion/").content.decode()

    assert 'id="upload-form"' in html
    assert 'action="/ingestion/upload/"' in html and 'enctype="multipart/form-data"' in html
    assert '<label for="id_files">' in html
    assert set(lake.run_ids) <= set(_run_ids(html))
    assert "/static/portal/ingestion.js" in html


def test_another_tenant_sees_its_datasets_freshness_and_their_runs_but_no_upload(portal, lake):
    from apps.ingestion.models import IngestRun

    html = portal("globex", "analyst").get("/ingestion/").content.decode()

    eugp = set(
        IngestRun.objects.filter(pk__in=lake.run_ids, dataset="vendor:EUGP").values_list("pk", flat=True)
    )
    assert set(_run_ids(html)) & set(lake.run_ids) == eugp  # RP is not licensed to globex
    assert 'id="upload-form"' not in html
    assert "/static/portal/ingestion.js" not in html
    rows = re.findall(
        r'<td data-label="Dataset">(vendor:\w+)</td>\s*<td data-label="Latest as-of">([^<]+)</td>', html
    )
    assert rows == [("vendor:EUGP", "2025-07-03")]  # globex licenses EUGP only
    state = html[html.index('<td data-label="State">') :].split("</td>")[0]
    assert 'badge-bad" title="due' in state and ">late</span>" in state  # the contract's status


def test_freshness_says_which_datasets_are_late_at_a_given_time(world, lake):
    from apps.curves.selectors import curve_dataset_summaries
    from apps.datasets.selectors import dataset_status_for_tenant, eod_dataset_states
    from tenants.models import Tenant
    from tenants.selectors import tenant_datasets

    acme = Tenant.objects.get(schema_name="acme")
    licensed = tenant_datasets(tenant=acme)

    def states(now: datetime) -> dict[str, Any]:
        statuses = dataset_status_for_tenant(tenant=acme, now=now, licensed=licensed)
        found = eod_dataset_states(
            licensed=licensed, statuses=statuses, summaries=curve_dataset_summaries(datasets=licensed)
        )
        return {d.name: d for d in found}

    # Friday 4 July 12:00 UTC: the latest due publication is Thursday 3 July's (due 16:00 UTC, the contract's
    # 14:30 London + 150 minutes). The lake holds EUGP 1-3 July and RP 1-2 July.
    rows = states(datetime(2025, 7, 4, 12, 0, tzinfo=UTC))
    monday = states(datetime(2025, 7, 7, 12, 0, tzinfo=UTC))

    assert sorted(rows) == ["vendor:EUGP", "vendor:PW", "vendor:RP", "vendor:SIMPLE"]
    eugp, rp, pw = (rows[f"vendor:{v}"] for v in ("EUGP", "RP", "PW"))
    assert (eugp.last_asof, eugp.late, eugp.status.due.day) == (date(2025, 7, 3), False, date(2025, 7, 3))
    assert (rp.last_asof, rp.late, rp.status.status) == (date(2025, 7, 2), True, "late")
    assert (pw.last_asof, pw.late, pw.curves) == (None, True, 0)
    assert eugp.curves > 0
    # Monday noon: Friday 4 July's is due and missing.
    assert (monday["vendor:EUGP"].late, monday["vendor:EUGP"].status.due.day) == (True, date(2025, 7, 4))


def test_the_runs_list_pins_its_queries(portal, django_assert_num_queries):
    client = portal("ops", "admin")
    client.get("/ingestion/")  # warm the session and tenant caches

    # tenant, session, user, membership, 2 search paths, runs count, any active, entitlements, the contracts'
    # status (EOD vintages (2), watermarks, late days, the real-time feeds' fetched intervals), dataset stats,
    # the page of runs (with who uploaded each): the same for any number of runs.
    with django_assert_num_queries(16):
        response = client.get("/ingestion/")

    assert response.status_code == 200


def test_an_operator_uploads_a_workbook_and_gets_a_queued_run(portal, world):
    from apps.ingestion.models import IngestRun

    response = _upload(portal("ops", "trader"), _workbook())

    body = response.json()
    assert response.status_code == 202, body
    (result,) = body["files"]
    run = IngestRun.objects.get(pk=result["run_id"])
    assert (result["created"], result["url"]) == (True, f"/ingestion/runs/{run.pk}/")
    assert (run.status, run.source, run.file_name) == ("queued", "portal", EOD_FILE.name)
    assert run.requested_by is not None and run.requested_by.email == world.ops.members["trader"].email
    # Who at the operators uploaded it is theirs to know, not their customers'.
    assert world.ops.members["trader"].email in portal("ops", "viewer").get("/ingestion/").content.decode()
    for page in ("/ingestion/", result["url"]):
        assert "@ops.example" not in portal("acme", "admin").get(page).content.decode()


def test_the_same_bytes_twice_answer_the_earlier_run(portal, lake):
    from apps.ingestion.models import IngestRun

    first = IngestRun.objects.get(pk=lake.run_ids[0])
    assert first.asof_date is not None
    data = eod("EUGP", first.asof_date).read_bytes()

    response = _upload(portal("ops", "admin"), _workbook(first.file_name, data))

    assert response.status_code == 202
    assert response.json()["files"] == [
        {
            "file_name": first.file_name,
            "run_id": first.pk,
            "run_status": first.status,
            "created": False,
            "url": f"/ingestion/runs/{first.pk}/",
            "status": 200,
        }
    ]


def test_without_script_the_form_answers_with_a_message_per_file(portal):
    client = portal("ops", "trader")

    response = _upload(client, _workbook(), _workbook("notes.xlsx", b"not a workbook"), json_answer=False)

    assert response.status_code == 302 and response["Location"] == "/ingestion/"
    html = client.get("/ingestion/").content.decode()
    assert re.search(rf"{EOD_FILE.name}: queued as run \d+\.", html)
    # A file no run could ingest is refused at once, with the reason (decision 0037).
    assert "notes.xlsx: cannot tell the vendor from the file name" in html


def test_a_file_over_the_limit_is_refused_with_the_apis_message(portal, settings):
    from apps.ingestion.models import IngestRun

    settings.AURUM_INGEST_MAX_BYTES = 1000
    response = _upload(portal("ops", "trader"), _workbook("EOD_EUGP_20250707_1430.xlsx", b"x" * 1500))

    (result,) = response.json()["files"]
    assert response.status_code == 413
    assert result["error"] == (
        "'EOD_EUGP_20250707_1430.xlsx' is 1,500 bytes; the limit is 1,000 bytes. "
        "It was refused unread and not kept."
    )
    refused = IngestRun.objects.get(pk=result["run_id"])
    assert (refused.status, refused.error_code, refused.raw_uri) == ("failed", "file_too_large", "")


def test_a_body_larger_than_the_limit_is_refused_before_it_is_read(portal, settings):
    from apps.ingestion.models import IngestRun

    settings.AURUM_INGEST_MAX_BYTES = 1000
    before = IngestRun.objects.count()
    response = portal("ops", "trader").post(
        "/ingestion/upload/",
        {"files": [_workbook("big.xlsx", b"x" * 70_000)]},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 413
    assert response.json()["error"].startswith("The upload is larger than the 1,000-byte file limit")
    assert IngestRun.objects.count() == before


def test_an_upload_without_a_file_says_what_to_choose(portal):
    response = portal("ops", "trader").post("/ingestion/upload/", {}, HTTP_ACCEPT="application/json")

    assert response.status_code == 400
    assert response.json()["error"] == "Choose one or more EOD workbooks (.xlsx) to upload."


@pytest.mark.parametrize(
    ("tenant", "role"), [("ops", "analyst"), ("ops", "viewer"), ("acme", "admin"), ("acme", "trader")]
)
def test_only_operators_with_curves_write_may_upload(portal, tenant, role):
    from apps.ingestion.models import IngestRun

    before = IngestRun.objects.count()
    response = _upload(portal(tenant, role), _workbook())

    assert response.status_code == 403
    assert IngestRun.objects.count() == before
    assert 'id="upload-form"' not in portal(tenant, role).get("/ingestion/").content.decode()


def test_a_run_shows_its_stages_counts_and_times(portal, lake):
    from apps.ingestion.models import IngestRun

    run = IngestRun.objects.get(pk=lake.run_ids[0])
    html = portal("acme", "viewer").get(f"/ingestion/runs/{run.pk}/").content.decode()

    stages = re.findall(r'<li class="stage stage-(\w+)"><span class="stage-name">(\w+)</span>', html)
    assert stages == [("done", s) for s in ("read", "parse", "enrich", "validate", "write", "catalog")]
    assert f'<dd class="num">{run.rows_parsed}</dd>' in html
    assert run.sha256 in html
    assert "hx-trigger" not in html  # a finished run is not polled


def test_a_running_run_is_polled_and_shows_its_current_stage(portal, world):
    from apps.ingestion.models import IngestRun

    run = IngestRun.objects.create(
        file_name="EOD_EUGP_20250707_1430.xlsx",
        sha256="0" * 64,
        size_bytes=10,
        raw_uri="",
        source="portal",
        dataset="vendor:EUGP",
        status="running",
        stage_ms={"read": 1.5, "parse": 120.0},
    )
    client = portal("ops", "trader")

    page = client.get(f"/ingestion/runs/{run.pk}/").content.decode()
    fragment = client.get(f"/ingestion/runs/{run.pk}/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="run")
    listing = client.get("/ingestion/").content.decode()

    assert f'hx-get="/ingestion/runs/{run.pk}/" hx-trigger="every 2s"' in page
    assert re.findall(r"stage stage-(\w+)", page) == [
        "done",
        "done",
        "current",
        "waiting",
        "waiting",
        "waiting",
    ]
    assert fragment.content.decode().startswith('<div id="run"') and "<html" not in fragment.content.decode()
    assert 'hx-trigger="every 2s"' in listing and "A run is in progress" in listing


def test_another_tenants_run_is_not_found(portal, lake):
    from apps.ingestion.models import IngestRun

    rp_run = IngestRun.objects.filter(pk__in=lake.run_ids, dataset="vendor:RP").first()
    assert rp_run is not None

    assert portal("globex", "admin").get(f"/ingestion/runs/{rp_run.pk}/").status_code == 404
    assert portal("acme", "admin").get(f"/ingestion/runs/{rp_run.pk}/").status_code == 200
    assert portal("acme", "admin").get("/ingestion/runs/999999999/").status_code == 404


def test_quarantine_review_lists_each_row_with_its_reasons(portal, world, tmp_path):
    # Column 2 quotes its ask below its bid in the first month: that row is held back as ask_ge_bid.
    bid_asks = [["29.9   /   30.1", "31.2   /   30.8"], ["30.0   /   30.2", "31.0   /   31.2"]]
    data = eugp_workbook(asof=date(2024, 3, 1), bid_asks=bid_asks, tenors=["Apr-24", "May-24"])
    with private_lake(tmp_path, []) as own:
        run_id = own.ingest(EOD_FILE, data=data, file_name="EOD_EUGP_20240301_1430.xlsx")
        client = portal("ops", "admin")

        html = client.get(f"/ingestion/runs/{run_id}/quarantine/").content.decode()
        filtered = client.get(f"/ingestion/runs/{run_id}/quarantine/?reason=no_such_reason").content.decode()
        detail = client.get(f"/ingestion/runs/{run_id}/").content.decode()
        acme = portal("acme", "admin").get(f"/ingestion/runs/{run_id}/quarantine/")

    rows = re.findall(r"<tbody>(.*?)</tbody>", html, flags=re.S)[0].split("</tr>")[:-1]
    assert len(rows) == 1
    assert "Apr-24" in rows[0] and "31.2" in rows[0] and "30.8" in rows[0]
    assert '<span class="badge badge-warn">ask_ge_bid</span>' in rows[0]
    assert "1 quarantined row" in html
    assert "<tbody>" not in filtered and "has the reason <code>no_such_reason</code>" in filtered
    assert f'href="/ingestion/runs/{run_id}/quarantine/?reason=ask_ge_bid"' in detail
    assert acme.status_code == 403  # quarantine review is the operators' work


def test_the_ingestion_pages_answer_htmx_with_a_fragment(portal):
    response = portal("ops", "trader").get("/ingestion/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="live")

    html = response.content.decode()
    assert html.startswith('<div id="live"') and "<html" not in html
    assert 'id="datasets-title"' in html and '<div id="runs"' in html


def test_signed_out_visitors_are_sent_to_sign_in(world, client):
    response = client.get("/ingestion/", HTTP_HOST=world.ops.host)

    assert (response.status_code, response["Location"]) == (302, "/login/?next=/ingestion/")
    upload = client.post("/ingestion/upload/", {}, HTTP_HOST=world.ops.host)
    assert upload.status_code == 302


def test_the_operators_pages_run_no_inline_script_or_style(portal, lake):
    # test_foundation.PAGES covers /ingestion/ and /settings/ as an analyst; these are the operators' pages.
    client = portal("ops", "admin")
    pages = [
        "/ingestion/",
        f"/ingestion/runs/{lake.run_ids[0]}/",
        f"/ingestion/runs/{lake.run_ids[0]}/quarantine/",
    ]
    for path in pages:
        response = client.get(path)
        html = response.content.decode()

        assert response.status_code == 200, path
        assert "script-src 'self'" in response["Content-Security-Policy"]
        for attributes, body in re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S):
            assert 'type="application/json"' in attributes or not body.strip(), path
        assert "<style" not in html and not re.search(r"\s(style|on[a-z]+)=", html), path
