"""Ingest the whole fixture set (every EUGP and RP day) with ingest_eod: wall time, rows, table size on disk.

Run: make bench BENCH=bench/ingest_all.py       (needs ../shared/fixtures)
"""

import io
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.local")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from apps.curves.models import Curve  # noqa: E402
from apps.ingestion.models import IngestRun  # noqa: E402
from aurum.lakehouse.tables import curve_observation_table  # noqa: E402

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
    print(
        f"warehouse on disk {folder_bytes(warehouse) / 1e6:.1f} MB (raw xlsx copies included); "
        f"curves in catalog {Curve.objects.count()}"
    )


if __name__ == "__main__":
    main()
