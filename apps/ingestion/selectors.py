from datetime import date, datetime
from typing import Any

from django.db.models import Count, QuerySet, Sum

from apps.curves.models import Curve
from apps.curves.selectors import curve_point_read
from apps.ingestion.models import IngestRun
from aurum.errors import NotFoundError
from aurum.lakehouse.queries import POINT_COLUMNS
from aurum.lakehouse.tables import CURVE_OBSERVATION
from tenants.models import Tenant
from tenants.selectors import tenant_datasets


def ingest_run_list(*, tenant: Tenant) -> QuerySet[IngestRun]:
    """Runs the tenant may see: all for the platform's operators, else those of its licensed datasets."""
    runs = IngestRun.objects.all()
    if not tenant.is_operator:
        runs = runs.filter(dataset__in=tenant_datasets(tenant=tenant))
    return runs.order_by("-created", "-id")


def ingest_run_get(*, tenant: Tenant, run_id: int) -> IngestRun:
    """One run the tenant may see; NotFoundError otherwise, without saying whether it exists."""
    run = ingest_run_list(tenant=tenant).filter(pk=run_id).first()
    if run is None:
        raise NotFoundError("No such ingest run.")
    return run


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
