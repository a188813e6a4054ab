"""The right workbook wins (decision 0013): for one (dataset, as-of) the later file stamp, then the later
upload, owns the slice whatever order the runs finish in; an older workbook arriving later is superseded and
changes no table; a failure after the lakehouse commit never leaves published rows under a failed run.

Real workbooks in a private lakehouse (tests.support.lake): the real 2025-09-11 EUGP file stands for an
earlier publication of 2025-09-12 (``EOD_EUGP_20250912_0900.xlsx``, as-of overridden), the real 2025-09-12
file for the 14:30 one."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pyarrow.compute as pc
import pytest
from django.db import connection

from apps.curves.models import Curve
from apps.ingestion.models import IngestRun
from apps.ingestion.parsers.workbook import parse_workbook
from apps.ingestion.services import ingest_run_create, ingest_run_execute, ingest_run_fail_unexpected
from aurum.lakehouse.tables import (
    curve_latest_table,
    curve_observation_table,
    curve_quarantine_table,
    slice_filter,
)
from aurum.lakehouse.versions import dataset_version
from tests.support.lake import Lake, private_lake
from tests.support.paths import EOD_DIR
from tests.support.workbooks import eugp_workbook

DAY = date(2025, 9, 12)
EUGP = "vendor:EUGP"
NEWER = (EOD_DIR / "EOD_EUGP_20250912_1430.xlsx", "EOD_EUGP_20250912_1430.xlsx")
OLDER = (EOD_DIR / "EOD_EUGP_20250911_1430.xlsx", "EOD_EUGP_20250912_0900.xlsx")
# The fixtures README's known value in the 2025-09-12 file: Austrian spark spread (CEGH), 2025-09.
KNOWN_MID = 25.81827660034004


@pytest.fixture
def lake(world, tmp_path):
    with private_lake(tmp_path, []) as lake:
        yield lake


def _queue(lake: Lake, workbook: tuple, as_of: date = DAY) -> IngestRun:
    path, name = workbook
    run = ingest_run_create(data=path.read_bytes(), file_name=name, source="command", as_of=as_of).run
    lake.run_ids.append(run.pk)
    return run


def _slice(table=None):
    return (table or curve_observation_table()).scan(row_filter=slice_filter(EUGP, DAY)).to_arrow()


def _known_point(rows) -> list[float]:
    spark = rows.filter(
        pc.and_(
            pc.and_(
                pc.equal(rows.column("sheet_name"), "Spark Spread"),
                pc.equal(rows.column("location"), "Austrian"),
            ),
            pc.and_(pc.equal(rows.column("block"), "BASE"), pc.equal(rows.column("tenor_label"), "2025-09")),
        )
    )
    return spark.column("mid").to_pylist()


def _snapshots() -> tuple[int | None, ...]:
    tables = (curve_observation_table(), curve_quarantine_table(), curve_latest_table())
    return tuple(s.snapshot_id if (s := table.current_snapshot()) else None for table in tables)


def test_an_older_workbook_finishing_second_is_superseded_and_changes_no_table(lake):
    newer = ingest_run_execute(run_id=_queue(lake, NEWER).pk)
    before = _snapshots()

    older = ingest_run_execute(run_id=_queue(lake, OLDER).pk)

    rows = _slice()
    assert newer.status == IngestRun.Status.SUCCEEDED
    assert older.status == IngestRun.Status.SUPERSEDED
    assert older.superseded_by_id == newer.pk
    assert (older.file_stamp, older.file_stamp_source) == (
        datetime(2025, 9, 12, 9, 0, tzinfo=UTC),
        "file_name",
    )
    assert (newer.file_stamp, newer.file_stamp_source) == (
        datetime(2025, 9, 12, 14, 30, tzinfo=UTC),
        "file_name",
    )
    assert (older.rows_published, older.snapshot_id) == (0, None)
    assert older.rows_parsed == parse_workbook(OLDER[0]).rows.num_rows
    assert _snapshots() == before  # observation, quarantine and latest tables untouched
    assert set(rows.column("ingest_run_id").to_pylist()) == {newer.pk}
    assert set(rows.column("source_file").to_pylist()) == {NEWER[1]}
    assert _known_point(rows) == [KNOWN_MID]
    assert set(_slice(curve_latest_table()).column("ingest_run_id").to_pylist()) == {newer.pk}
    assert IngestRun.objects.get(pk=older.pk).status == "superseded"


def test_a_newer_workbook_finishing_second_replaces_the_older(lake):
    older = ingest_run_execute(run_id=_queue(lake, OLDER).pk)
    older_rows = _slice()

    newer = ingest_run_execute(run_id=_queue(lake, NEWER).pk)

    rows = _slice()
    assert older.status == newer.status == IngestRun.Status.SUCCEEDED
    assert set(older_rows.column("ingest_run_id").to_pylist()) == {older.pk}
    assert _known_point(older_rows) != [KNOWN_MID]  # the two files differ where it matters
    assert newer.replaced_run_id == older.pk
    assert set(rows.column("ingest_run_id").to_pylist()) == {newer.pk}
    assert rows.num_rows == newer.rows_published
    assert _known_point(rows) == [KNOWN_MID]
    assert set(_slice(curve_latest_table()).column("ingest_run_id").to_pylist()) == {newer.pk}


def test_without_a_time_in_the_name_the_workbooks_modified_time_orders_them(lake):
    day = date(2024, 1, 20)
    afternoon = eugp_workbook(asof=day, modified=datetime(2024, 1, 20, 15, 0, tzinfo=UTC))
    morning = eugp_workbook(
        asof=day, mids=[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], modified=datetime(2024, 1, 20, 9, 0, tzinfo=UTC)
    )
    first = ingest_run_create(data=afternoon, file_name="EOD_EUGP_20240120.xlsx", source="api").run
    second = ingest_run_create(data=morning, file_name="EOD_EUGP_20240120.xlsx", source="api").run
    lake.run_ids += [first.pk, second.pk]

    first = ingest_run_execute(run_id=first.pk)
    second = ingest_run_execute(run_id=second.pk)

    assert (first.file_stamp, first.file_stamp_source) == (
        datetime(2024, 1, 20, 15, 0, tzinfo=UTC),
        "core_properties",
    )
    assert second.status == IngestRun.Status.SUPERSEDED
    assert second.superseded_by_id == first.pk
    rows = curve_observation_table().scan(row_filter=slice_filter(EUGP, day)).to_arrow()
    assert set(rows.column("ingest_run_id").to_pylist()) == {first.pk}


@pytest.mark.live
def test_two_runs_racing_for_one_day_leave_exactly_one_owner_the_newer(committed_world, tmp_path):
    with private_lake(tmp_path, []) as lake:
        curve_observation_table(), curve_quarantine_table(), curve_latest_table()  # created before the race
        older, newer = _queue(lake, OLDER), _queue(lake, NEWER)
        barrier = threading.Barrier(2)
        outcome: dict[int, str] = {}

        def execute(run_id: int) -> None:
            try:
                barrier.wait(timeout=30)
                outcome[run_id] = ingest_run_execute(run_id=run_id).status
            finally:
                connection.close()

        threads = [threading.Thread(target=execute, args=(run.pk,)) for run in (older, newer)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

        older.refresh_from_db()
        newer.refresh_from_db()
        rows = _slice()
        assert outcome[newer.pk] == IngestRun.Status.SUCCEEDED
        # The older one either lost the lock race and was superseded, or won it, published, and was replaced.
        assert (older.status, older.superseded_by_id, newer.replaced_run_id) in (
            (IngestRun.Status.SUPERSEDED, newer.pk, None),
            (IngestRun.Status.SUCCEEDED, None, older.pk),
        )
        assert set(rows.column("ingest_run_id").to_pylist()) == {newer.pk}
        assert set(_slice(curve_quarantine_table()).column("ingest_run_id").to_pylist()) <= {newer.pk}
        assert set(_slice(curve_latest_table()).column("ingest_run_id").to_pylist()) == {newer.pk}
        assert _known_point(rows) == [KNOWN_MID]


class _CrashError(RuntimeError):
    """Stands for anything failing between the lakehouse commit and the run's bookkeeping."""


def test_a_failure_after_the_commit_is_never_a_failed_run_and_a_retry_converges(lake):
    run = _queue(lake, NEWER)
    version = dataset_version(EUGP)
    # Another module on this database may have catalogued EUGP curves already: compare, don't expect none.
    catalog_before = list(Curve.objects.values_list("curve_key", "last_asof", "updated"))

    def crash(run: IngestRun) -> None:
        raise _CrashError("catalog database went away")

    with pytest.raises(_CrashError):
        ingest_run_execute(run_id=run.pk, after_write=crash)
    given_up = ingest_run_fail_unexpected(run_id=run.pk, error=_CrashError("catalog database went away"))

    published = _slice()
    keys = set(published.column("curve_key").to_pylist())
    assert set(published.column("ingest_run_id").to_pylist()) == {run.pk}  # the rows are served ...
    assert given_up.status == IngestRun.Status.RUNNING  # ... so the run is not marked failed
    assert given_up.error_code == "unfinished"
    assert "_CrashError: catalog database went away" in given_up.error_message
    assert _slice(curve_latest_table()).num_rows == 0  # not converged yet: latest, catalog, version
    assert list(Curve.objects.values_list("curve_key", "last_asof", "updated")) == catalog_before
    assert dataset_version(EUGP) == version

    retried = ingest_run_execute(run_id=run.pk)

    rows = _slice()
    latest = _slice(curve_latest_table())
    assert retried.status == IngestRun.Status.SUCCEEDED
    assert (retried.attempts, retried.error_code, retried.error_message) == (2, "", "")
    assert retried.snapshot_id == _snapshots()[0]
    assert set(rows.column("ingest_run_id").to_pylist()) == {run.pk}
    assert rows.num_rows == retried.rows_published == published.num_rows  # rewritten, not duplicated
    assert set(latest.column("ingest_run_id").to_pylist()) == {run.pk}
    assert latest.num_rows == rows.num_rows  # one day only: latest is the whole slice
    assert set(Curve.objects.filter(curve_key__in=keys).values_list("curve_key", flat=True)) == keys
    assert set(rows.column("curve_key").to_pylist()) == keys
    assert dataset_version(EUGP) == version + 1
