from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Max, QuerySet

from apps.curves.models import Curve
from apps.curves.selectors import curve_point_read
from apps.ingestion.models import IngestRun
from aurum.errors import NotFoundError
from aurum.lakehouse.queries import POINT_COLUMNS
from aurum.lakehouse.tables import CURVE_OBSERVATION, curve_quarantine_table, slice_filter
from tenants.models import Tenant
from tenants.selectors import tenant_datasets


def ingest_run_list(*, tenant: Tenant) -> QuerySet[IngestRun]:
    """Runs the tenant may see: all for the platform's operators, else those of its licensed datasets."""
    runs = IngestRun.objects.select_related("requested_by")
    if not tenant.is_operator:
        runs = runs.filter(dataset__in=tenant_datasets(tenant=tenant))
    return runs.order_by("-created", "-id")


def ingest_run_get(*, tenant: Tenant, run_id: int) -> IngestRun:
    """One run the tenant may see; NotFoundError otherwise, without saying whether it exists."""
    run = ingest_run_list(tenant=tenant).filter(pk=run_id).first()
    if run is None:
        raise NotFoundError("No such ingest run.")
    return run


def ingest_runs_active(*, tenant: Tenant) -> bool:
    """Whether any run the tenant sees is still queued or running (the portal polls while one is)."""
    active = (IngestRun.Status.QUEUED, IngestRun.Status.RUNNING)
    return ingest_run_list(tenant=tenant).filter(status__in=active).exists()


# What the quarantine review shows of each row: where it came from, what it says, and why it was held back.
QUARANTINE_COLUMNS = (
    "sheet_name",
    "curve_key",
    "location",
    "product",
    "block",
    "tenor_label",
    "contract_month",
    "bid",
    "ask",
    "mid",
    "value",
    "units_raw",
    "currency",
    "quarantine_reason",
)


def ingest_run_quarantine_rows(*, run: IngestRun) -> list[dict[str, Any]]:
    """The rows this run put in quarantine, each with its pipe-joined reasons split into ``reasons``, in
    sheet, curve and tenor order. Empty when a later workbook of the same day replaced the slice."""
    if not run.rows_quarantined or not run.dataset or run.asof_date is None:
        return []
    where = f"{slice_filter(run.dataset, run.asof_date)} AND ingest_run_id = {int(run.pk)}"
    table = curve_quarantine_table().scan(row_filter=where, selected_fields=QUARANTINE_COLUMNS).to_arrow()
    rows = table.sort_by(
        [("sheet_name", "ascending"), ("curve_key", "ascending"), ("tenor_label", "ascending")]
    )
    return [
        {**row, "reasons": [r for r in (row["quarantine_reason"] or "").split("|") if r]}
        for row in rows.to_pylist()
    ]


@dataclass(frozen=True)
class DatasetFreshness:
    dataset: str
    latest_asof: date | None  # the newest as-of of any of its curves; None: nothing ingested yet
    expected_asof: date  # the business day whose workbook should be in by today
    curves: int

    @property
    def is_late(self) -> bool:
        return self.latest_asof is None or self.latest_asof < self.expected_asof

    @property
    def business_days_behind(self) -> int | None:
        if self.latest_asof is None:
            return None
        return business_days_between(self.latest_asof, self.expected_asof)


def expected_asof(today: date) -> date:
    """The as-of an end-of-day dataset should have reached by ``today``: the previous weekday (a vendor
    publishes day D's workbook on the evening of D)."""
    day = today - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def business_days_between(start: date, end: date) -> int:
    """Weekdays after ``start`` up to and including ``end`` (0 when ``start`` is not before ``end``)."""
    days, day = 0, start
    while day < end:
        day += timedelta(days=1)
        days += day.weekday() < 5
    return days


def dataset_freshness_list(*, tenant: Tenant, today: date) -> list[DatasetFreshness]:
    """Each dataset the tenant licenses, with its latest as-of and whether it is late (one query)."""
    datasets = sorted(tenant_datasets(tenant=tenant))
    stats = {
        row["dataset"]: row
        for row in Curve.objects.filter(dataset__in=datasets)
        .values("dataset")
        .annotate(latest=Max("last_asof"), curves=Count("id"))
    }
    expected = expected_asof(today)
    return [
        DatasetFreshness(
            dataset=dataset,
            latest_asof=stats[dataset]["latest"] if dataset in stats else None,
            expected_asof=expected,
            curves=stats[dataset]["curves"] if dataset in stats else 0,
        )
        for dataset in datasets
    ]


def curve_point_lineage(*, curve: Curve, tenor_label: str, asof: date) -> dict[str, Any]:
    """Explain one number: the point, the file and sheet it came from, the run and snapshot that wrote it,
    and the quality rules it passed."""
    result = curve_point_read(curve=curve, tenor_label=tenor_label, asof=asof)
    rows = result.table.to_pylist()
    if not rows:
        raise NotFoundError(f"No point for tenor '{tenor_label}' of this curve on {asof.isoformat()}.")
    point = rows[0]
    run = IngestRun.objects.filter(pk=point["ingest_run_id"]).first()
    return {
        "point": {
            k: point[k] for k in POINT_COLUMNS if k not in ("rules_passed", "ingest_run_id", "dataset")
        },
        "source": {
            "file_name": point["source_file"],
            "sha256": run.sha256 if run else None,
            "sheet_name": point["sheet_name"],
            "dataset": point["dataset"],
            "version_hash": point["version_hash"],
            "derived_from_monthly_points": bool(point["is_derived"]),
        },
        "ingest_run": {
            "id": point["ingest_run_id"],
            "status": run.status if run else None,
            "finished_at": run.finished_at if run else None,
            "snapshot_id": run.snapshot_id if run else None,
        },
        "quality_rules_passed": [r for r in (point["rules_passed"] or "").split("|") if r],
        "read_from_snapshot_id": result.snapshot_ids.get(CURVE_OBSERVATION),
    }
