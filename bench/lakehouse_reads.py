"""Lakehouse reads in-process (no HTTP, no read cache): one curve's latest (~121 tenors), one curve's as-of
vintage, and one point's lineage, each through the selectors and the configured engine (DuckDB), over a few
real EUGP days. The figure to watch is the one-curve latest read: decision 0009 made it ~4 ms.

Run: make bench BENCH=bench/lakehouse_reads.py    (needs ../shared/fixtures)
"""

import atexit
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.local")
if "AURUM_WAREHOUSE" not in os.environ:  # a throwaway warehouse, like the throwaway Postgres and Redis
    WAREHOUSE = tempfile.mkdtemp(prefix="aurum-bench-wh-")
    atexit.register(shutil.rmtree, WAREHOUSE, ignore_errors=True)
    os.environ["AURUM_WAREHOUSE"] = Path(WAREHOUSE).as_uri()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from apps.curves import selectors  # noqa: E402
from apps.curves.models import Curve  # noqa: E402
from apps.ingestion.selectors import curve_point_lineage  # noqa: E402
from aurum.lakehouse.queries import CurveFilters  # noqa: E402

EOD = REPO.parent / "shared" / "fixtures" / "eod"
DAYS = int(os.environ.get("BENCH_DAYS", "5"))
RUNS = int(os.environ.get("BENCH_RUNS", "500"))


def load() -> None:
    call_command("platform_migrate", verbosity=0)
    call_command("load_reference", verbosity=0)
    files = sorted(EOD.glob("EOD_EUGP_*.xlsx"))[:DAYS]
    started = time.perf_counter()
    call_command("ingest_eod", *[str(f) for f in files], stdout=io.StringIO())
    print(f"loaded {len(files)} EUGP workbooks in {time.perf_counter() - started:.0f} s")


def timed(name: str, read: Callable[[], object]) -> None:
    """Wall time, and CPU time of the process (steadier when other work shares the cores)."""
    for _ in range(20):  # warm-up: plans cached, Parquet footers in DuckDB's object cache
        read()
    wall, cpu = [], []
    for _ in range(RUNS):
        started, started_cpu = time.perf_counter(), time.process_time()
        read()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    wall.sort()
    p50, p95, cpu_p50 = statistics.median(wall), wall[int(len(wall) * 0.95)], statistics.median(cpu)
    print(f"{name:<24} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  cpu p50 {cpu_p50:6.2f} ms  ({RUNS} runs)")


def main() -> None:
    load()
    curves = Curve.objects.filter(dataset="vendor:EUGP").order_by("curve_key")
    curve = min(curves, key=lambda c: (abs(c.tenor_count - 121), c.curve_key))
    filters = CurveFilters(datasets=(curve.dataset,), curve_keys=(curve.curve_key,))
    rows = selectors.curve_points(filters=filters).table.num_rows
    print(f"curve {curve.curve_key[:12]}… {curve.location} / {curve.product}: {rows} rows latest")
    timed("one curve latest", lambda: selectors.curve_points(filters=filters))
    timed("one curve as-of", lambda: selectors.curve_points(filters=filters, asof=curve.last_asof))
    tenor = selectors.curve_points(filters=filters).table.column("tenor_label")[0].as_py()
    timed(
        "one point's lineage",
        lambda: curve_point_lineage(curve=curve, tenor_label=tenor, asof=curve.last_asof),
    )


if __name__ == "__main__":
    main()
