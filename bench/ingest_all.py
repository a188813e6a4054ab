"""Ingest the whole fixture set (every EUGP and RP day) with ingest_eod: wall time, rows, table size on disk.

Run: make bench BENCH=bench/ingest_all.py       (needs ../shared/fixtures)
"""

import io
import os
import statistics
import sys
import time
from pathlib import Path
from typing import cast

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.local")

import django  # noqa: E402
import sqlglot  # noqa: E402
from sqlglot import exp  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from apps.curves.models import Curve  # noqa: E402
from apps.ingestion.models import IngestRun  # noqa: E402
from aurum.lakehouse.engines import DuckDBEngine  # noqa: E402
from aurum.lakehouse.sql import LakehouseQuery, ScanSpec  # noqa: E402
from aurum.lakehouse.tables import CURVE_OBSERVATION, curve_observation_table  # noqa: E402

EOD = REPO.parent / "shared" / "fixtures" / "eod"


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    call_command("platform_migrate", verbosity=0)
    call_command("load_reference", verbosity=0)
    files = sorted(EOD.glob("EOD_*.xlsx"))
    started = time.perf_counter()
    call_command("ingest_eod", *[str(f) for f in files], stdout=io.StringIO())
    wall = time.perf_counter() - started
    table = curve_observation_table()
    files_table = table.inspect.files()
    rows = sum(files_table.column("record_count").to_pylist())
    data_bytes = sum(files_table.column("file_size_in_bytes").to_pylist())
    warehouse = Path(settings.AURUM_WAREHOUSE.removeprefix("file://"))
    source_bytes = sum(f.stat().st_size for f in files)
    runs = IngestRun.objects.filter(status__in=["succeeded", "succeeded_with_quarantine"])
    print(
        f"workbooks {len(files)} ({source_bytes / 1e6:.1f} MB xlsx); runs ok {runs.count()}, "
        f"failed {IngestRun.objects.filter(status='failed').count()}"
    )
    print(f"wall {wall:.1f} s ({wall / len(files):.2f} s per workbook, {rows / wall:,.0f} rows/s)")
    print(
        f"rows in market.curve_observation {rows:,} in {files_table.num_rows} data files; "
        f"{data_bytes / 1e6:.1f} MB Parquet ({data_bytes / rows:.1f} B/row)"
    )
    read_paths()
    print(
        f"warehouse on disk {folder_bytes(warehouse) / 1e6:.1f} MB (raw xlsx copies included); "
        f"curves in catalog {Curve.objects.count()}"
    )


def timed(label: str, sql: str, row_filter: str) -> None:
    """``row_filter`` prunes the files pyiceberg plans and is applied again in SQL (``{where}``)."""
    expression = cast(exp.Query, sqlglot.parse_one(sql.format(where=row_filter), read="duckdb"))
    query = LakehouseQuery(expression, (ScanSpec(CURVE_OBSERVATION, "obs", row_filter=row_filter),))
    engine = DuckDBEngine()
    engine.query(query)  # warm-up
    times, result = [], None
    for _ in range(5):
        started = time.perf_counter()
        result = engine.query(query)
        times.append((time.perf_counter() - started) * 1000)
    assert result is not None
    print(
        f"{label:<44} median {statistics.median(times):7.1f} ms  files planned {result.files_scanned:>3}  "
        f"rows out {result.table.num_rows:,}"
    )


def read_paths() -> None:
    """How the partitioning serves the read paths of issue 4 (DuckDB over the files pyiceberg plans)."""
    key = Curve.objects.filter(dataset="vendor:EUGP", tenor_count=121).order_by("curve_key").first()
    assert key is not None
    latest = (
        "SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY tenor_label ORDER BY asof_date DESC, "
        "_ingest_ts DESC) AS rn FROM obs WHERE {where}) WHERE rn = 1"
    )
    timed(
        "one dataset, one as-of (slice)",
        "SELECT * FROM obs WHERE {where}",
        "dataset = 'vendor:EUGP' AND asof_date = '2025-09-12'",
    )
    timed(
        "one curve, one as-of",
        "SELECT * FROM obs WHERE {where}",
        f"curve_key = '{key.curve_key}' AND asof_date = '2025-09-12'",
    )
    timed("one curve, every vintage", "SELECT * FROM obs WHERE {where}", f"curve_key = '{key.curve_key}'")
    timed("one curve, latest per tenor", latest, f"curve_key = '{key.curve_key}'")


if __name__ == "__main__":
    main()
