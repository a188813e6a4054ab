"""The ingestion pipeline end to end on real workbooks: Iceberg slice, lineage, catalog, idempotency,
replacement, bad input, crash and re-run. Iceberg commits are not rolled back with the test's database
transaction, so each test works on a slice (dataset, as-of) of its own and asserts on that slice."""

import hashlib
from datetime import date
from pathlib import Path

import pyarrow.compute as pc
import pytest

from apps.curves.models import Curve
from apps.ingestion.models import IngestRun
from apps.ingestion.services import ingest_run_create, ingest_run_execute
from aurum.lakehouse.raw import raw_get
from aurum.lakehouse.tables import curve_observation_table, curve_quarantine_table, slice_filter
from tests.support.paths import EOD_DIR
from tests.support.workbooks import eugp_workbook

EUGP_0912 = EOD_DIR / "EOD_EUGP_20250912_1430.xlsx"
RP_0912 = EOD_DIR / "EOD_RP_20250912_1430.xlsx"


def _slice(dataset: str, asof: date):
    table = curve_observation_table()
    return table.scan(row_filter=slice_filter(dataset, asof)).to_arrow()


def _snapshot_id() -> int | None:
    snapshot = curve_observation_table().current_snapshot()
    return snapshot.snapshot_id if snapshot else None


def _ingest(path_or_bytes: Path | bytes, file_name: str | None = None, **kwargs) -> IngestRun:
    data = path_or_bytes.read_bytes() if isinstance(path_or_bytes, Path) else path_or_bytes
    name = file_name or (path_or_bytes.name if isinstance(path_or_bytes, Path) else "upload.xlsx")
    created = ingest_run_create(data=data, file_name=name, source="command", **kwargs)
    return ingest_run_execute(run_id=created.run.pk)


def test_real_eugp_day_is_published_with_lineage_and_catalogued(world):
    run = _ingest(EUGP_0912)

    rows = _slice("vendor:EUGP", date(2025, 9, 12))
    assert run.status == IngestRun.Status.SUCCEEDED
    assert (run.vendor, run.dataset, run.asof_date) == ("EUGP", "vendor:EUGP", date(2025, 9, 12))
    assert run.rows_published == rows.num_rows == run.rows_parsed - run.rows_quarantined + run.rows_derived
    assert run.rows_parsed == 5808 + 1440 + 4235  # the spec's counted volumes for this day
    assert run.snapshot_id == _snapshot_id()
    assert set(rows.column("ingest_run_id").to_pylist()) == {run.pk}
    assert set(run.stage_ms) == {"read", "parse", "enrich", "validate", "write", "catalog"}
    assert (
        hashlib.sha256(raw_get(run.raw_uri)).hexdigest()
        == run.sha256
        == hashlib.sha256(EUGP_0912.read_bytes()).hexdigest()
    )
    # The fixtures README's known value, read back from the lakehouse.
    spark = rows.filter(
        pc.and_(
            pc.equal(rows.column("sheet_name"), "Spark Spread"),
            pc.and_(
                pc.equal(rows.column("location"), "Austrian"),
                pc.and_(
                    pc.equal(rows.column("block"), "BASE"), pc.equal(rows.column("tenor_label"), "2025-09")
                ),
            ),
        )
    )
    assert spark.column("mid").to_pylist() == [25.81827660034004]
    assert spark.column("spark_location").to_pylist() == ["Austrian_CEGH"]
    # Every curve of the slice is in the catalog with its identity.
    keys = set(rows.column("curve_key").to_pylist())
    catalogued = Curve.objects.filter(curve_key__in=keys)
    assert catalogued.count() == len(keys)
    austrian = catalogued.get(curve_key=spark.column("curve_key")[0].as_py())
    assert (austrian.dataset, austrian.vendor, austrian.spark_location) == (
        "vendor:EUGP",
        "EUGP",
        "Austrian_CEGH",
    )
    assert austrian.last_asof == date(2025, 9, 12)
    assert austrian.tenor_count == 121


def test_the_same_file_twice_is_a_no_op(world):
    first = _ingest(EUGP_0912)
    snapshot = _snapshot_id()

    again = ingest_run_create(data=EUGP_0912.read_bytes(), file_name=EUGP_0912.name, source="api")

    assert again.created is False
    assert again.run.pk == first.pk
    assert _snapshot_id() == snapshot
    assert IngestRun.objects.filter(sha256=first.sha256).count() == 1


def test_a_corrected_file_replaces_its_day_atomically(world):
    asof = date(2024, 1, 15)
    original = eugp_workbook(asof=asof, mids=[[10.0, 20.0], [11.0, 21.0], [12.0, 22.0]])
    corrected = eugp_workbook(
        asof=asof, products=("Dutch_TTF", "German"), mids=[[10.5, 30.0], [11.5, 31.0], [12.5, 32.0]]
    )
    name = "EOD_EUGP_20240115_1430.xlsx"

    first = _ingest(original, name)
    before = _slice("vendor:EUGP", asof)
    second = _ingest(corrected, name)
    after = _slice("vendor:EUGP", asof)

    assert first.status == second.status == IngestRun.Status.SUCCEEDED
    assert second.replaced_run_id == first.pk
    assert set(after.column("ingest_run_id").to_pylist()) == {second.pk}
    assert after.num_rows == second.rows_published
    assert sorted(v for v in after.column("mid").to_pylist() if v is not None) != sorted(
        v for v in before.column("mid").to_pylist() if v is not None
    )
    locations = set(after.column("location").to_pylist())
    assert "German" in locations and "NBP" not in locations  # nothing of the first file is left


def test_derived_strips_are_published_and_marked(world):
    run = _ingest(RP_0912)

    rows = _slice("vendor:RP", date(2025, 9, 12))
    derived = rows.filter(rows.column("is_derived"))
    assert run.rows_derived == derived.num_rows > 0
    assert set(derived.column("tenor_type").to_pylist()) <= {"QUARTER", "CALENDAR"}
    # One derived quarter checked against the average of its three monthly points.
    quarter = derived.filter(pc.equal(derived.column("tenor_type"), "QUARTER")).slice(0, 1).to_pylist()[0]
    months = rows.filter(
        pc.and_(
            pc.equal(rows.column("curve_key"), quarter["curve_key"]),
            pc.equal(rows.column("tenor_type"), "MONTHLY"),
        )
    ).to_pylist()
    year = int(quarter["tenor_label"][-4:])
    first_month = int(quarter["tenor_label"][1]) * 3 - 2
    wanted = {f"{year}-{m:02d}" for m in range(first_month, first_month + 3)}
    mids = [m["mid"] for m in months if m["tenor_label"] in wanted]
    assert len(mids) == 3
    assert quarter["mid"] == pytest.approx(sum(mids) / 3, rel=1e-12)


@pytest.mark.parametrize(
    ("make", "file_name", "code"),
    [
        (lambda: b"this is not a workbook", "EOD_EUGP_20230102_1430.xlsx", "not_xlsx"),
        (lambda: EUGP_0912.read_bytes()[:50_000], "EOD_EUGP_20230103_1430.xlsx", "corrupt_workbook"),
        (lambda: eugp_workbook(), "EOD_ZZZ_20230104_1430.xlsx", "unknown_vendor"),
        (lambda: eugp_workbook(asof=""), "EOD_EUGP_latest.xlsx", "missing_asof"),
        (lambda: RP_0912.read_bytes(), "EOD_EUGP_20230106_1430.xlsx", "layout_mismatch"),
    ],
    ids=["not-xlsx", "truncated", "unknown-vendor", "missing-asof", "layout-mismatch"],
)
def test_bad_input_fails_clearly_touches_nothing_and_keeps_the_raw_file(world, make, file_name, code):
    data = make()
    snapshot = _snapshot_id()

    run = _ingest(data, file_name)

    assert run.status == IngestRun.Status.FAILED
    assert run.error_code == code
    assert len(run.error_message) > 20
    assert "Traceback" not in run.error_message
    assert _snapshot_id() == snapshot
    assert raw_get(run.raw_uri) == data


def test_a_file_over_the_size_limit_is_refused_recorded_and_not_stored(world, settings):
    from apps.ingestion.services import IngestTooLargeError

    settings.AURUM_INGEST_MAX_BYTES = 1000
    snapshot = _snapshot_id()
    with pytest.raises(IngestTooLargeError, match="limit is 1,000 bytes") as refused:
        ingest_run_create(data=b"x" * 1001, file_name="EOD_EUGP_20230107_1430.xlsx", source="api")

    run = IngestRun.objects.get(pk=refused.value.run.pk)
    assert refused.value.status == 413
    assert run.status == IngestRun.Status.FAILED
    assert run.error_code == "file_too_large"
    assert "refused unread and not kept" in run.error_message
    assert (run.raw_uri, run.sha256, run.size_bytes, run.dataset) == ("", "", 1001, "vendor:EUGP")
    assert _snapshot_id() == snapshot


class _WorkerDied(BaseException):
    """Stands for a worker killed between the Iceberg commit and the run's bookkeeping."""


def test_a_run_killed_after_writing_finishes_on_rerun_without_duplicates(world):
    asof = date(2024, 2, 1)
    data = eugp_workbook(asof=asof)
    created = ingest_run_create(data=data, file_name="EOD_EUGP_20240201_1430.xlsx", source="api")

    def die(run: IngestRun) -> None:
        raise _WorkerDied

    with pytest.raises(_WorkerDied):
        ingest_run_execute(run_id=created.run.pk, after_write=die)
    assert IngestRun.objects.get(pk=created.run.pk).status == IngestRun.Status.RUNNING

    run = ingest_run_execute(run_id=created.run.pk)

    rows = _slice("vendor:EUGP", asof)
    assert run.status == IngestRun.Status.SUCCEEDED
    assert run.attempts == 2
    keys = list(
        zip(rows.column("curve_key").to_pylist(), rows.column("tenor_label").to_pylist(), strict=True)
    )
    assert len(keys) == len(set(keys)) == run.rows_published


def test_quarantined_rows_go_to_the_quarantine_table_with_reasons(world):
    asof = date(2024, 3, 1)
    # Mids are 30 + column + tenor/10; column 2 quotes its ask below its bid in the first month.
    bid_asks = [
        ["29.9   /   30.1", "31.2   /   30.8"],
        ["30.0   /   30.2", "31.0   /   31.2"],
        ["30.1   /   30.3", "31.1   /   31.3"],
    ]
    data = eugp_workbook(asof=asof, bid_asks=bid_asks)
    run = _ingest(data, "EOD_EUGP_20240301_1430.xlsx")

    quarantined = curve_quarantine_table().scan(row_filter=slice_filter("vendor:EUGP", asof)).to_arrow()
    assert run.status == IngestRun.Status.SUCCEEDED_WITH_QUARANTINE
    assert run.rows_quarantined == quarantined.num_rows == 1
    assert "ask_ge_bid" in run.quarantine_reasons
    assert all("ask_ge_bid" in r for r in quarantined.column("quarantine_reason").to_pylist()), (
        run.quarantine_reasons
    )
    published = _slice("vendor:EUGP", asof)
    assert published.num_rows == run.rows_published


def test_an_unexpected_failure_marks_the_run_failed_instead_of_leaving_it_running(world):
    from apps.ingestion.tasks import ingest_run_execute_task

    created = ingest_run_create(
        data=eugp_workbook(asof=date(2024, 5, 2)), file_name="EOD_EUGP_20240502_1430.xlsx", source="api"
    )
    Path(created.run.raw_uri.removeprefix("file://")).unlink()  # the warehouse lost the raw file

    result = ingest_run_execute_task.apply(args=(created.run.pk,))

    run = IngestRun.objects.get(pk=created.run.pk)
    assert result.failed()
    assert run.status == IngestRun.Status.FAILED
    assert run.error_code == "internal_error"
    assert "FileNotFoundError" in run.error_message


def test_a_published_slice_makes_caches_of_its_dataset_stale_and_only_those(world):
    from aurum.lakehouse.versions import dataset_version

    eugp_before, rp_before = dataset_version("vendor:EUGP"), dataset_version("vendor:RP")

    _ingest(eugp_workbook(asof=date(2024, 5, 6)), "EOD_EUGP_20240506_1430.xlsx")

    assert dataset_version("vendor:EUGP") == eugp_before + 1
    assert dataset_version("vendor:RP") == rp_before
