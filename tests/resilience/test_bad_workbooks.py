"""The hostile and malformed workbooks of the corpus, uploaded through the API.

What the archive or the name alone shows is a 422 problem at upload: a failed run is recorded (no bytes, no
hash) and nothing is kept. What only the sheets show is a 202, then the run (executed here as the worker
would) ends ``failed`` with the reason; its raw file stays reviewable (``aurum.lakehouse.raw``), as every
received workbook does. Either way no Iceberg table changes, no curve is catalogued and no run is left
queued or running. Hostile-looking but harmless workbooks are ingested from their cached values.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.curves.models import Curve
from apps.ingestion.models import IngestRun
from apps.ingestion.services import ingest_run_execute
from aurum.lakehouse.tables import curve_latest_table, curve_observation_table, curve_quarantine_table
from tests.resilience.corpus.workbooks import FAILED_BY_THE_RUN, HARMLESS, REFUSED_AT_UPLOAD, Hostile
from tests.support.lake import Lake, private_lake

PROBLEM = "application/problem+json"
UNFINISHED = (IngestRun.Status.QUEUED, IngestRun.Status.RUNNING)
# Each case its own as-of day, far from the days other tests ingest.
DAYS = {
    name: date(2019, 1, 1 + n) for n, name in enumerate([*REFUSED_AT_UPLOAD, *FAILED_BY_THE_RUN, *HARMLESS])
}


@pytest.fixture
def lake(world: Any, tmp_path: Path) -> Iterator[Lake]:
    with private_lake(tmp_path, []) as lake:
        yield lake


def _state(lake: Lake) -> dict[str, Any]:
    tables = (curve_observation_table(), curve_quarantine_table(), curve_latest_table())
    return {
        "snapshots": [len(table.refresh().snapshots()) for table in tables],
        "curves": Curve.objects.count(),
        "unfinished runs": IngestRun.objects.filter(status__in=UNFINISHED).count(),
        "raw files": sorted(
            str(path.relative_to(lake.warehouse))
            for path in (lake.warehouse / "raw").rglob("*")
            if path.is_file()
        ),
    }


def _upload(api: Any, world: Any, case: Hostile, day: date) -> tuple[Any, str]:
    name = case.file_name.format(day=day)
    response = api.post(
        "/api/v2/ingest/runs",
        {"file": SimpleUploadedFile(name, case.make(day))},
        format="multipart",
        **world.ops.auth("trader"),
    )
    return response, name


@pytest.mark.parametrize("name", REFUSED_AT_UPLOAD)
def test_a_workbook_refused_at_upload_is_a_422_problem_and_nothing_is_kept(world, api, lake, name):
    case = REFUSED_AT_UPLOAD[name]
    before = _state(lake)

    response, file_name = _upload(api, world, case, DAYS[name])

    problem = response.json()
    assert response.status_code == 422, response.content[:500]
    assert response["Content-Type"] == PROBLEM
    assert (problem["type"], problem["title"], problem["status"]) == (
        "https://aurum.dev/problems/invalid-workbook",
        "Unprocessable Content",
        422,
    )
    assert problem["detail"].startswith(file_name) and case.detail in problem["detail"], problem["detail"]
    assert problem["detail"].endswith("It was refused and not kept."), problem["detail"]
    assert problem["error_code"] == case.error_code
    refused = IngestRun.objects.get(pk=problem["run_id"])
    assert (refused.status, refused.error_code, refused.sha256, refused.raw_uri) == (
        "failed",
        case.error_code,
        "",
        "",
    )
    assert _state(lake) == before


@pytest.mark.parametrize("name", FAILED_BY_THE_RUN)
def test_a_workbook_whose_sheets_are_bad_fails_its_run_and_publishes_nothing(world, api, lake, name):
    case = FAILED_BY_THE_RUN[name]
    before = _state(lake)

    response, file_name = _upload(api, world, case, DAYS[name])
    assert response.status_code == 202, response.content[:500]
    run_id = response.json()["data"]["id"]
    ingest_run_execute(run_id=run_id)  # what the worker does with the queued run
    answer = api.get(f"/api/v2/ingest/runs/{run_id}", **world.ops.auth("viewer")).json()["data"]

    assert (answer["status"], answer["error_code"]) == ("failed", case.error_code), answer["error_message"]
    assert answer["error_message"].startswith(file_name) and case.detail in answer["error_message"]
    assert answer["rows_published"] == 0 and answer["snapshot_id"] is None
    after = _state(lake)
    raw_before = before.pop("raw files")
    kept = [path for path in after.pop("raw files") if path not in raw_before]
    assert after == before
    assert [Path(path).name for path in kept] == [file_name]  # the received file, kept for review


@pytest.mark.parametrize("name", HARMLESS)
def test_a_hostile_looking_but_harmless_workbook_is_ingested_from_its_cached_values(world, api, lake, name):
    case = HARMLESS[name]

    response, _ = _upload(api, world, case, DAYS[name])
    assert response.status_code == 202, response.content[:500]
    run = ingest_run_execute(run_id=response.json()["data"]["id"])

    assert (run.status, run.error_code) == (case.error_code, ""), run.error_message
    # Every price read (from the cached values); the unknown products' rows quarantined for their units.
    assert run.rows_parsed == run.rows_published + run.rows_quarantined == 6
    assert not IngestRun.objects.filter(status__in=UNFINISHED).exists()


def test_an_empty_upload_is_a_400_problem_and_records_nothing(world, api, lake):
    before = _state(lake)
    runs = IngestRun.objects.count()

    response = api.post(
        "/api/v2/ingest/runs",
        {"file": SimpleUploadedFile("EOD_EUGP_20190201_1430.xlsx", b"")},
        format="multipart",
        **world.ops.auth("trader"),
    )

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert response.json()["detail"] == "file: The submitted file is empty."
    assert (IngestRun.objects.count(), _state(lake)) == (runs, before)


def test_an_upload_over_the_size_limit_is_a_413_problem_and_nothing_is_kept(world, api, lake, settings):
    settings.AURUM_INGEST_MAX_BYTES = 4_000
    data = REFUSED_AT_UPLOAD["zip bomb"].make(date(2019, 2, 2))  # 312 KB: refused before it is read
    before = _state(lake)

    response = api.post(
        "/api/v2/ingest/runs",
        {"file": SimpleUploadedFile("EOD_EUGP_20190202_1430.xlsx", data)},
        format="multipart",
        **world.ops.auth("trader"),
    )

    problem = response.json()
    assert response.status_code == 413
    assert response["Content-Type"] == PROBLEM
    assert problem["type"] == "https://aurum.dev/problems/payload-too-large"
    assert problem["detail"] == "The request body is larger than the 4,000-byte file limit allows."
    assert _state(lake) == before
