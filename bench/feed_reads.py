"""Feeds in-process (no HTTP, no read cache): replaying the recorded responses through the adapters (a fetch
end to end: parse, Iceberg overwrite of the window, run and watermark), and the v1 reads through the
selectors and DuckDB: an EIA series page, a FRED series' observations, LMP last-24h, LMP hourly aggregates.

Run: make bench BENCH=bench/feed_reads.py
"""

import atexit
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

from apps.feeds import selectors  # noqa: E402
from apps.feeds.recorded import (  # noqa: E402
    RECORDED_FETCHES,
    REPLAY_KEYS,
    RecordedFetch,
    recorded_load,
    recorded_transport,
)
from apps.feeds.services import feed_fetch  # noqa: E402
from aurum.lakehouse.feed_queries import LmpFilters, SeriesFilters  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "200"))


def timed(name: str, work: Callable[[], object], runs: int = RUNS) -> None:
    for _ in range(min(20, runs)):
        work()
    wall = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        wall.append((time.perf_counter() - started) * 1000)
    wall.sort()
    print(f"{name:36} median {statistics.median(wall):7.1f} ms   p90 {wall[int(len(wall) * 0.9)]:7.1f} ms")


def replay(fetch: RecordedFetch) -> Callable[[], object]:
    def run() -> object:
        transport = recorded_transport(fetch.answer)
        return feed_fetch(
            provider=fetch.provider,
            dataset=fetch.dataset,
            window=fetch.window,
            transport=transport,
            keys=REPLAY_KEYS,
        )

    return run


def main() -> None:
    call_command("platform_migrate", verbosity=0)
    call_command("load_reference", verbosity=0)
    recorded_load()
    for fetch in RECORDED_FETCHES[:2]:
        timed(f"fetch {fetch.provider} {fetch.dataset} (replay)", replay(fetch), runs=20)
    eia = SeriesFilters(providers=("EIA",), provider="EIA")
    fred = SeriesFilters(providers=("FRED",), provider="FRED", series_id="DGS10", with_value=True)
    lmp = LmpFilters(isos=("CAISO", "MISO"), iso_code="CAISO")
    timed("v1 ref/eia/series page (200)", lambda: selectors.series_observation_rows(eia, limit=201))
    timed("v1 external observations (500)", lambda: selectors.series_observation_rows(fred, limit=501))
    timed("v1 iso/lmp/last-24h", lambda: selectors.lmp_recent_rows(lmp, hours=24, limit=500))
    timed("v1 iso/lmp/hourly", lambda: selectors.lmp_aggregate_rows(lmp, bucket="hour", limit=500))


if __name__ == "__main__":
    main()
