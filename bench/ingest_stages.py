"""Where an ingest's time goes, in-process (no HTTP, no Celery): EUGP and RP of BENCH_DAYS after BENCH_WARM
days are already loaded, one after the other. Prints per workbook the wall time, the CPU time of this process
(all threads) and the stage times; the CPU figure is the one to compare on a shared machine.

Run: make bench BENCH=bench/ingest_stages.py        (needs ../shared/fixtures)
"""

import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.local")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from apps.ingestion.services import ingest_run_create, ingest_run_execute  # noqa: E402

EOD = REPO.parent / "shared" / "fixtures" / "eod"
WARM = os.environ.get("BENCH_WARM", "20250902,20250903,20250904,20250905").split(",")
DAYS = os.environ.get("BENCH_DAYS", "20250908,20250909,20250910,20250911,20250912").split(",")


def ingest(day: str, vendor: str) -> tuple[float, float, dict[str, float]]:
    path = EOD / f"EOD_{vendor}_{day}_1430.xlsx"
    created = ingest_run_create(data=path.read_bytes(), file_name=path.name, source="command")
    wall, cpu = time.perf_counter(), time.process_time()
    run = ingest_run_execute(run_id=created.run.pk)
    assert run.status.startswith("succeeded"), (run.status, run.error_message)
    return time.perf_counter() - wall, time.process_time() - cpu, dict(run.stage_ms)


def main() -> None:
    call_command("platform_migrate", verbosity=0)
    call_command("load_reference", verbosity=0)
    for day in WARM:
        for vendor in ("EUGP", "RP"):
            ingest(day, vendor)
    results: dict[str, list[tuple[float, float, dict[str, float]]]] = {"EUGP": [], "RP": []}
    load = os.getloadavg()[0]
    for day in DAYS:
        for vendor in ("EUGP", "RP"):
            wall, cpu, stages = ingest(day, vendor)
            results[vendor].append((wall, cpu, stages))
            print(f"{day} {vendor}: wall {wall * 1000:6.0f} ms, CPU {cpu * 1000:6.0f} ms, stages {stages}")
    print(f"load average before the measured days {load:.2f}, after {os.getloadavg()[0]:.2f}")
    for vendor, rows in results.items():
        stages = {name: statistics.median(r[2].get(name, 0.0) for r in rows) for name in rows[0][2]}
        print(
            f"{vendor} median of {len(rows)}: wall {statistics.median(r[0] for r in rows) * 1000:.0f} ms, "
            f"CPU {statistics.median(r[1] for r in rows) * 1000:.0f} ms, stages {stages}"
        )


if __name__ == "__main__":
    main()
