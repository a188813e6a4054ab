"""The fast slice write (decision 0048): a re-published day replaces exactly its own partition in one
OVERWRITE snapshot, a superseded workbook leaves no Parquet behind, a filter that does not cover whole
files falls back to pyiceberg's row-level overwrite, the latest rows ranked in Arrow equal the SQL ranking
of ``curves_latest`` over the same rows, and the memoised transaction metadata still follows staged
updates. Real EUGP workbooks in a private lakehouse (tests.support.lake)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pyiceberg.manifest import ManifestEntryStatus

from apps.ingestion.models import IngestRun
from apps.ingestion.services import ingest_run_create, ingest_run_execute
from aurum.lakehouse import queries
from aurum.lakehouse.latest import curve_latest_merge, curve_latest_prepare, curve_latest_rank
from aurum.lakehouse.partitions import data_files_write, partition_replace
from aurum.lakehouse.tables import (
    CURVE_OBSERVATION_ARROW,
    curve_latest_table,
    curve_observation_table,
    curve_quarantine_table,
    slice_filter,
)
from tests.support.lake import Lake, eod, private_lake

EUGP = "vendor:EUGP"
DAY_1, DAY_2 = date(2025, 7, 1), date(2025, 7, 2)


@pytest.fixture
def lake(world, tmp_path):
    with private_lake(tmp_path, [eod("EUGP", DAY_1), eod("EUGP", DAY_2)]) as lake:
        yield lake


def _live_files(table) -> dict[str, str]:
    """file path -> asof_day partition value, of every live data file."""
    return {task.file.file_path: str(task.file.partition[1]) for task in table.scan().plan_files()}


def _parquet_files(lake: Lake) -> set[str]:
    return {str(path) for path in lake.warehouse.rglob("*.parquet")}


def test_a_republished_day_replaces_its_partition_in_one_overwrite_snapshot(lake):
    table = curve_observation_table()
    snapshots_before = len(table.metadata.snapshots)
    files_before = _live_files(table)
    day_2_files = {path for path, day in files_before.items() if day == str((DAY_2 - date(1970, 1, 1)).days)}

    run_id = lake.ingest(eod("EUGP", DAY_2), as_of=DAY_1, file_name="EOD_EUGP_20250701_1800.xlsx")

    table = curve_observation_table()
    files_after = _live_files(table)
    snapshot = table.current_snapshot()
    assert snapshot is not None and snapshot.summary is not None
    assert len(table.metadata.snapshots) == snapshots_before + 1
    assert snapshot.summary.operation.value == "overwrite"
    assert IngestRun.objects.get(pk=run_id).snapshot_id == snapshot.snapshot_id
    assert len(files_after) == len(files_before) == 2  # one file per (dataset, day), none left behind
    assert day_2_files <= set(files_after)  # the other day's file is untouched
    day_1 = table.scan(row_filter=slice_filter(EUGP, DAY_1)).to_arrow()
    assert set(day_1.column("ingest_run_id").to_pylist()) == {run_id}
    assert set(day_1.column("source_file").to_pylist()) == {"EOD_EUGP_20250701_1800.xlsx"}


def test_a_superseded_workbook_leaves_no_parquet_file(lake):
    files_before = _parquet_files(lake)
    older = ingest_run_create(
        data=eod("EUGP", DAY_2).read_bytes(),
        file_name="EOD_EUGP_20250701_0600.xlsx",  # earlier than the 14:30 file that owns 2025-07-01
        source="command",
        as_of=DAY_1,
    ).run
    lake.run_ids.append(older.pk)

    finished = ingest_run_execute(run_id=older.pk)

    assert finished.status == IngestRun.Status.SUPERSEDED
    assert _parquet_files(lake) == files_before


def _current_id(table) -> int:
    snapshot = table.current_snapshot()
    assert snapshot is not None
    return int(snapshot.snapshot_id)


def _manifests(table) -> list:
    snapshot = table.current_snapshot()
    assert snapshot is not None
    return snapshot.manifests(table.io)


def test_replacing_partitions_again_and_again_leaves_no_manifest_without_a_live_file(lake):
    """pyiceberg alone carries every manifest of DELETED entries into all later snapshots (102 of them for 2
    live files after 104 days, read by every plan); the overwrite Aurum commits drops them (decision 0059)."""
    # Day 1 re-published three times, each by a later workbook (later days' files stand in for them).
    runs = [
        lake.ingest(eod("EUGP", later), as_of=DAY_1, file_name=f"EOD_EUGP_20250701_{hour}.xlsx")
        for later, hour in ((DAY_2, "1500"), (date(2025, 7, 3), "1600"), (date(2025, 7, 7), "1700"))
    ]
    assert [IngestRun.objects.get(pk=run_id).status for run_id in runs] == [IngestRun.Status.SUCCEEDED] * 3

    for table in (curve_observation_table(), curve_latest_table()):
        current = _current_id(table)
        manifests = _manifests(table)
        live = [m for m in manifests if m.has_added_files() or m.has_existing_files()]
        assert live and all(m.added_snapshot_id == current for m in manifests if m not in live)
        # What the last commit removed is still recorded, in its own snapshot.
        removed = [
            entry
            for manifest in manifests
            for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=False)
            if entry.status == ManifestEntryStatus.DELETED
        ]
        assert removed and {entry.snapshot_id for entry in removed} == {current}
        assert sum(m.deleted_files_count for m in manifests) == len(removed)

    # Earlier snapshots keep their own manifest lists: time travel reads each republication's rows.
    table = curve_observation_table()
    for run_id in runs:
        snapshot_id = IngestRun.objects.get(pk=run_id).snapshot_id
        rows = table.scan(row_filter=slice_filter(EUGP, DAY_1), snapshot_id=snapshot_id).to_arrow()
        assert rows.num_rows > 0 and set(rows.column("ingest_run_id").to_pylist()) == {run_id}
    latest = curve_latest_table().scan().to_arrow()
    assert set(latest.column("ingest_run_id").to_pylist()) <= {lake.run_ids[1], runs[-1]}  # day 2's, day 1's


def test_an_ingest_with_nothing_quarantined_now_or_before_commits_nothing_to_the_quarantine_table(lake):
    quarantine_snapshots = len(curve_quarantine_table().metadata.snapshots)
    observation_snapshots = len(curve_observation_table().metadata.snapshots)

    run_id = lake.ingest(eod("EUGP", DAY_2), as_of=DAY_1, file_name="EOD_EUGP_20250701_1800.xlsx")

    assert IngestRun.objects.get(pk=run_id).rows_quarantined == 0
    assert len(curve_quarantine_table().metadata.snapshots) == quarantine_snapshots
    assert len(curve_observation_table().metadata.snapshots) == observation_snapshots + 1


def test_skip_no_op_still_commits_a_replace_that_removes_rows(lake):
    table = curve_observation_table()
    before = _current_id(table)
    empty = pa.Table.from_pylist([], schema=CURVE_OBSERVATION_ARROW)

    partition_replace(
        table, row_filter=slice_filter(EUGP, date(2030, 1, 1)), files=[], rows=empty, skip_no_op=True
    )
    assert _current_id(curve_observation_table()) == before  # nothing there, nothing new

    partition_replace(table, row_filter=slice_filter(EUGP, DAY_1), files=[], rows=empty, skip_no_op=True)
    after = curve_observation_table()
    assert _current_id(after) != before
    assert after.scan(row_filter=slice_filter(EUGP, DAY_1)).to_arrow().num_rows == 0
    assert after.scan(row_filter=slice_filter(EUGP, DAY_2)).to_arrow().num_rows > 0


def test_a_slice_write_failing_on_its_thread_leaves_no_parquet_and_changes_no_table(lake, monkeypatch):
    """The slice's Parquet is written on a second thread while the latest rows are prepared (decision 0059):
    if that write fails, the prepared latest files are deleted too and nothing is committed."""
    from apps.ingestion import publishing

    def failing(table, rows):
        if table.name() == ("market", "curve_observation"):
            raise OSError("disk full")
        return data_files_write(table, rows)

    monkeypatch.setattr(publishing, "data_files_write", failing)
    files_before = _parquet_files(lake)
    snapshots_before = {
        name: _current_id(table())
        for name, table in (("obs", curve_observation_table), ("latest", curve_latest_table))
    }

    with pytest.raises(OSError, match="disk full"):
        lake.ingest(eod("EUGP", DAY_2), as_of=DAY_1, file_name="EOD_EUGP_20250701_1800.xlsx")

    assert _parquet_files(lake) == files_before
    assert snapshots_before == {
        name: _current_id(table())
        for name, table in (("obs", curve_observation_table), ("latest", curve_latest_table))
    }


def test_a_filter_not_covering_whole_files_falls_back_to_the_row_level_overwrite(lake):
    table = curve_observation_table()
    day_1 = table.scan(row_filter=slice_filter(EUGP, DAY_1)).to_arrow()
    key = day_1.column("curve_key")[0].as_py()
    kept = day_1.filter(pc.equal(day_1.column("curve_key"), key))
    changed = kept.set_column(kept.schema.get_field_index("mid"), "mid", pc.add(kept.column("mid"), 1.0))
    files = data_files_write(table, changed)
    assert all(Path(f.file_path.removeprefix("file://")).exists() for f in files)

    partition_replace(
        table,
        row_filter=f"curve_key = '{key}' AND asof_date = '{DAY_1.isoformat()}'",
        files=files,
        rows=changed,
    )

    after = curve_observation_table().scan(row_filter=slice_filter(EUGP, DAY_1)).to_arrow()
    assert after.num_rows == day_1.num_rows
    mids = after.filter(pc.equal(after.column("curve_key"), key)).column("mid").to_pylist()
    assert sorted(mids) == sorted(m + 1.0 for m in kept.column("mid").to_pylist())
    others = after.filter(pc.not_equal(after.column("curve_key"), key))
    assert others.num_rows == day_1.num_rows - kept.num_rows
    assert not any(Path(f.file_path.removeprefix("file://")).exists() for f in files)  # discarded


def _sql_rank(rows: pa.Table) -> pa.Table:
    """The reference: ``curves_latest``'s own SQL, run by DuckDB over ``rows``."""
    sql = queries.curves_latest(queries.CurveFilters(datasets=(EUGP,))).sql(
        "duckdb", tables={queries.OBS: "rows"}
    )
    con = duckdb.connect()
    try:
        con.register("rows", rows)
        return (
            con.sql(sql).to_arrow_table().select(CURVE_OBSERVATION_ARROW.names).cast(CURVE_OBSERVATION_ARROW)
        )
    finally:
        con.close()


def test_latest_rows_ranked_in_arrow_equal_the_sql_ranking(lake):
    vintages = curve_observation_table().scan().to_arrow().cast(CURVE_OBSERVATION_ARROW)
    # A second load of day 2 one second later (wins on _ingest_ts) for a few tenors, with a null price type
    # on some rows: the tie-breaks of the window.
    day_2 = vintages.filter(pc.equal(vintages.column("asof_date"), pa.scalar(DAY_2)))
    reload = day_2.slice(0, 50)
    later = pc.add(reload.column("_ingest_ts"), pa.scalar(timedelta(seconds=1)))
    reload = reload.set_column(reload.schema.get_field_index("_ingest_ts"), "_ingest_ts", later)
    reload = reload.set_column(
        reload.schema.get_field_index("mid"), "mid", pc.add(reload.column("mid"), pa.scalar(5.0))
    )
    nulls = pa.nulls(20, pa.string()).cast(reload.schema.field("price_type").type)
    tie = day_2.slice(100, 20).set_column(day_2.schema.get_field_index("price_type"), "price_type", nulls)
    rows = pa.concat_tables([vintages, reload, tie])

    ranked, reference = curve_latest_rank(rows, EUGP), _sql_rank(rows)

    assert ranked.num_rows == reference.num_rows == day_2.num_rows + _only_on_day_1(vintages)
    assert ranked.to_pylist() == reference.to_pylist()
    picked = set(
        zip(*(ranked.column(c).to_pylist() for c in ("curve_key", "tenor_label", "mid")), strict=True)
    )
    reloaded = set(
        zip(*(reload.column(c).to_pylist() for c in ("curve_key", "tenor_label", "mid")), strict=True)
    )
    assert reloaded <= picked  # the later load of the day wins


def _only_on_day_1(vintages: pa.Table) -> int:
    keys = {
        day: set(
            zip(
                *(
                    vintages.filter(pc.equal(vintages.column("asof_date"), pa.scalar(day)))
                    .column(c)
                    .to_pylist()
                    for c in ("curve_key", "tenor_label")
                ),
                strict=True,
            )
        )
        for day in (DAY_1, DAY_2)
    }
    return len(keys[DAY_1] - keys[DAY_2])


def test_the_latest_table_after_two_days_equals_the_sql_ranking_of_the_vintages(lake):
    vintages = curve_observation_table().scan().to_arrow().cast(CURVE_OBSERVATION_ARROW)
    latest = curve_latest_table().scan().to_arrow().cast(CURVE_OBSERVATION_ARROW)

    assert latest.sort_by([("curve_key", "ascending"), ("tenor_label", "ascending")]).to_pylist() == (
        _sql_rank(vintages).to_pylist()
    )


def _a_new_day(lake) -> pa.Table:
    """Day 2's rows as a new day 3 slice (a later vintage of every curve day 2 quotes)."""
    day_2 = curve_observation_table().scan(row_filter=slice_filter(EUGP, DAY_2)).to_arrow()
    day_3 = pa.array([DAY_2 + timedelta(days=1)] * day_2.num_rows, pa.date32())
    return day_2.set_column(day_2.schema.get_field_index("asof_date"), "asof_date", day_3)


def _exists(files) -> list[bool]:
    return [Path(f.file_path.removeprefix("file://")).exists() for f in files]


def test_a_latest_prepared_outside_the_lock_is_committed_as_written_when_nothing_changed(lake):
    before = curve_latest_table().scan().to_arrow().cast(CURVE_OBSERVATION_ARROW)
    published = _a_new_day(lake)

    prepared = curve_latest_prepare(EUGP, published)
    assert prepared is not None and all(_exists(prepared.files))
    assert curve_latest_merge(EUGP, published, prepared=prepared) == (prepared.rows.num_rows, "merge")

    table = curve_latest_table()
    assert {task.file.file_path for task in table.scan().plan_files()} == {
        f.file_path for f in prepared.files
    }
    expected = curve_latest_rank(pa.concat_tables([before, published.cast(CURVE_OBSERVATION_ARROW)]), EUGP)
    assert table.scan().to_arrow().cast(CURVE_OBSERVATION_ARROW).to_pylist() == expected.to_pylist()


def test_a_prepared_latest_is_merged_again_when_another_writer_changed_the_dataset_meanwhile(lake):
    published = _a_new_day(lake)
    prepared = curve_latest_prepare(EUGP, published)
    assert prepared is not None
    # Meanwhile another writer (a quarantine release, a repair) changes the dataset's latest rows: here a
    # point of a curve the new day does not quote.
    table = curve_latest_table()
    current = table.scan().to_arrow().cast(CURVE_OBSERVATION_ARROW)
    extra = current.slice(0, 1)
    extra = extra.set_column(
        extra.schema.get_field_index("curve_key"), "curve_key", pa.array(["zz-not-quoted"])
    )
    changed = curve_latest_rank(pa.concat_tables([current, extra]), EUGP)
    partition_replace(
        table, row_filter=f"dataset = '{EUGP}'", files=data_files_write(table, changed), rows=changed
    )

    assert curve_latest_merge(EUGP, published, prepared=prepared)[1] == "merge"

    assert not any(_exists(prepared.files))  # the stale files were deleted, never committed
    latest = curve_latest_table().scan().to_arrow().cast(CURVE_OBSERVATION_ARROW)
    expected = curve_latest_rank(pa.concat_tables([changed, published.cast(CURVE_OBSERVATION_ARROW)]), EUGP)
    assert latest.to_pylist() == expected.to_pylist()
    assert "zz-not-quoted" in set(latest.column("curve_key").to_pylist())


def test_memoised_transaction_metadata_follows_staged_updates(lake):
    table = curve_observation_table()
    with table.transaction() as transaction:
        first = transaction.table_metadata
        assert transaction.table_metadata is first  # nothing staged: the same (frozen) metadata
        transaction.set_properties({"aurum.test": "1"})
        staged = transaction.table_metadata
        assert staged is not first
        assert staged.properties["aurum.test"] == "1"
        assert "aurum.test" not in first.properties
    assert curve_observation_table().properties["aurum.test"] == "1"
