from datetime import date, datetime
from typing import Any

from django.db.models import Count, QuerySet, Sum
from pyiceberg.exceptions import NoSuchTableError

from apps.curves.models import Curve
from apps.curves.selectors import curve_point_read
from apps.ingestion.models import CurveQuarantineRow, IngestRun
from apps.ingestion.quarantine_queries import quarantine_rows_query
from aurum.errors import NotFoundError
from aurum.lakehouse.engines import get_engine
from aurum.lakehouse.queries import POINT_COLUMNS
from aurum.lakehouse.tables import CURVE_OBSERVATION
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


_SOURCE_ONLY = ("rules_passed", "ingest_run_id", "dataset", "source_cell", "bid_ask_sheet", "bid_ask_cell")


def ingest_runs_active(*, tenant: Tenant) -> bool:
    """Whether any run the tenant sees is still queued or running (the portal polls while one is)."""
    active = (IngestRun.Status.QUEUED, IngestRun.Status.RUNNING)
    return ingest_run_list(tenant=tenant).filter(status__in=active).exists()


def ingest_run_quarantine_rows(*, run: IngestRun) -> list[dict[str, Any]]:
    """The rows this run put in quarantine, each with its pipe-joined reasons split into ``reasons``, in
    sheet, curve and tenor order. Empty when a later workbook of the same day replaced the slice."""
    if not run.rows_quarantined or not run.dataset or run.asof_date is None:
        return []
    query = quarantine_rows_query(dataset=run.dataset, asof=run.asof_date, run_id=int(run.pk))
    try:
        rows = get_engine().query(query).table.to_pylist()
    except NoSuchTableError:
        return []  # nothing was ever quarantined in this warehouse
    return [{**row, "reasons": [r for r in (row["quarantine_reason"] or "").split("|") if r]} for row in rows]


def curve_point_lineage(*, curve: Curve, tenor_label: str, asof: date) -> dict[str, Any]:
    """Explain one number: the point, the file, sheet and cell it came from (and the cell of its bid / ask
    quote), the run and snapshot that wrote it, and the quality rules it passed. The cells are null for a
    point written before Aurum recorded them, and for a strip derived from monthly points."""
    result = curve_point_read(curve=curve, tenor_label=tenor_label, asof=asof)
    rows = result.table.to_pylist()
    if not rows:
        raise NotFoundError(f"No point for tenor '{tenor_label}' of this curve on {asof.isoformat()}.")
    point = rows[0]
    run = IngestRun.objects.filter(pk=point["ingest_run_id"]).first()
    return {
        "point": {k: point[k] for k in POINT_COLUMNS if k not in _SOURCE_ONLY},
        "source": {
            "file_name": point["source_file"],
            "sha256": run.sha256 if run else None,
            "sheet_name": point["sheet_name"],
            "cell": point["source_cell"],
            "bid_ask": (
                {"sheet_name": point["bid_ask_sheet"], "cell": point["bid_ask_cell"]}
                if point["bid_ask_cell"]
                else None
            ),
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
        # Held back by the run's validate stage and published later by an operator (decision 0041).
        "quarantine_release": _release_of(point, asof),
        "read_from_snapshot_id": result.snapshot_ids.get(CURVE_OBSERVATION),
    }


_STRIP_MONTHS = {"QUARTER": 3, "CALENDAR": 12}


def _months_of(point: dict[str, Any]) -> list[str]:
    """The tenor labels a point stands for: its own, or for a strip derived from monthly points (strips.py)
    the months it averages (MONTHLY labels are ``YYYY-MM``)."""
    size, first = _STRIP_MONTHS.get(point["tenor_type"]), point["contract_month"]
    if not point["is_derived"] or size is None or first is None:
        return [point["tenor_label"]]
    months = [first.year * 12 + first.month - 1 + i for i in range(size)]
    return [f"{month // 12}-{month % 12 + 1:02d}" for month in months]


def _release_of(point: dict[str, Any], asof: date) -> dict[str, Any] | None:
    """The release that published the point; for a derived strip, the latest release of one of its months
    (the release derived the strip again, decision 0041)."""
    released = (
        CurveQuarantineRow.objects.filter(
            run_id=point["ingest_run_id"],
            asof_date=asof,
            curve_key=point["curve_key"],
            tenor_label__in=_months_of(point),
            status=CurveQuarantineRow.Status.RELEASED,
        )
        .select_related("decision")
        .order_by("-decision_id")
        .first()
    )
    if released is None or released.decision is None:
        return None
    decision = released.decision
    return {
        "id": decision.pk,
        "row": released.pk,
        "decided_by": decision.decided_by,
        "decided_at": decision.decided_at,
        "reason": decision.reason,
        "snapshot_id": decision.snapshot_id,
    }


def ingest_quarantine_summary(*, tenant: Tenant, since: datetime) -> dict[str, int]:
    """Runs the tenant may see created since ``since``: how many quarantined rows, and in how many runs."""
    totals = (
        ingest_run_list(tenant=tenant)
        .filter(created__gte=since, rows_quarantined__gt=0)
        .aggregate(rows=Sum("rows_quarantined"), runs=Count("id"))
    )
    return {"rows": int(totals["rows"] or 0), "runs": int(totals["runs"] or 0)}


def published_asof_dates(*, datasets: frozenset[str], limit: int) -> list[date]:
    """The latest as-of dates published (a run succeeded) in any of ``datasets``, newest first."""
    dates = (
        IngestRun.objects.filter(
            dataset__in=datasets, status__in=IngestRun.PUBLISHED, asof_date__isnull=False
        )
        .order_by("-asof_date")
        .values_list("asof_date", flat=True)
        .distinct()[:limit]
    )
    return [day for day in dates if day is not None]


def curve_asof_dates(*, curve: Curve) -> list[date]:
    """The as-of dates of ``curve``, oldest first: the days its dataset published between the curve's first
    and last as-of (Postgres; a day the vendor left the curve out shows as a vintage without points)."""
    dates = (
        IngestRun.objects.filter(
            dataset=curve.dataset,
            status__in=IngestRun.PUBLISHED,
            asof_date__gte=curve.first_asof,
            asof_date__lte=curve.last_asof,
        )
        .order_by("asof_date")
        .values_list("asof_date", flat=True)
        .distinct()
    )
    return [day for day in dates if day is not None]


def curve_quarantine_list(
    *,
    tenant: Tenant,
    status: str | None = None,
    dataset: str | None = None,
    run_id: int | None = None,
    asof: date | None = None,
) -> QuerySet[CurveQuarantineRow]:
    """The vendor rows held back for review, oldest first: every one for an operator tenant (the vendor
    data is the platform's, its review the operators'), none for a customer."""
    rows = CurveQuarantineRow.objects.all() if tenant.is_operator else CurveQuarantineRow.objects.none()
    if status:
        rows = rows.filter(status=status)
    if dataset:
        rows = rows.filter(dataset=dataset)
    if run_id is not None:
        rows = rows.filter(run_id=run_id)
    if asof is not None:
        rows = rows.filter(asof_date=asof)
    return rows.select_related("decision").order_by("id")


def curve_quarantine_get(*, tenant: Tenant, row_id: int) -> CurveQuarantineRow:
    """One row the tenant may review; NotFoundError otherwise, without saying whether it exists."""
    found = curve_quarantine_list(tenant=tenant).filter(pk=row_id).first()
    if found is None:
        raise NotFoundError("No such quarantined row.")
    return found
