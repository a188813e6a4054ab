"""Reads of curves: the catalog (Postgres) and the points (Iceberg through the query engine).

Market data is licensed: a tenant sees a curve only if its plan or entitlements include the curve's dataset.
Anything else answers 404, never 403, so the existence of unlicensed curves is not revealed.
"""

from datetime import date
from typing import Any

from rest_framework.exceptions import NotFound

from apps.curves.models import Curve
from apps.ingestion.models import IngestRun
from aurum.lakehouse.engines import ScanSpec, get_engine
from aurum.lakehouse.tables import CURVE_OBSERVATION, slice_filter
from tenants.models import Tenant
from tenants.selectors import tenant_datasets

_POINT_COLUMNS = (
    "curve_key",
    "tenor_label",
    "tenor_type",
    "contract_month",
    "asof_date",
    "mid",
    "bid",
    "ask",
    "value",
    "price_type",
    "units_raw",
    "currency",
    "per_unit",
    "source_file",
    "sheet_name",
    "version_hash",
    "_ingest_ts",
    "dataset",
    "ingest_run_id",
    "rules_passed",
    "is_derived",
)


def curve_get_for_tenant(*, tenant: Tenant, curve_key: str) -> Curve:
    curve = Curve.objects.filter(curve_key=curve_key, dataset__in=tenant_datasets(tenant=tenant)).first()
    if curve is None:
        raise NotFound("No such curve.")
    return curve


def curve_point_lineage(*, curve: Curve, tenor_label: str, asof: date) -> dict[str, Any]:
    """Explain one number: the point, the file and sheet it came from, the run and snapshot that wrote it,
    and the quality rules it passed."""
    columns = ", ".join(f'"{c}"' for c in _POINT_COLUMNS)
    result = get_engine().query(
        f"SELECT {columns} FROM obs "
        "WHERE dataset = ? AND asof_date = ? AND curve_key = ? AND tenor_label = ?",
        [ScanSpec(CURVE_OBSERVATION, "obs", row_filter=slice_filter(curve.dataset, asof))],
        [curve.dataset, asof, curve.curve_key, tenor_label],
    )
    rows = result.table.to_pylist()
    if not rows:
        raise NotFound(f"No point for tenor '{tenor_label}' of this curve on {asof.isoformat()}.")
    point = rows[0]
    run = IngestRun.objects.filter(pk=point["ingest_run_id"]).first()
    return {
        "point": {
            k: point[k] for k in _POINT_COLUMNS if k not in ("rules_passed", "ingest_run_id", "dataset")
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
