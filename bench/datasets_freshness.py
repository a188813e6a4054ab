"""Dataset contracts in-process: the freshness evaluation over every contract (the beat task's work each
minute, nothing late to record after the first run), the statuses of every dataset (what /api/v2/datasets
and the home page read), the calendar scheduler's pass, and a recorded FRED fetch with its contract
enforced (schema check and quality rules) against the same fetch's earlier median in bench/feed_reads.py.

Run: make bench BENCH=bench/datasets_freshness.py
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
if "AURUM_WAREHOUSE" not in os.environ:
    WAREHOUSE = tempfile.mkdtemp(prefix="aurum-bench-wh-")
    atexit.register(shutil.rmtree, WAREHOUSE, ignore_errors=True)
    os.environ["AURUM_WAREHOUSE"] = Path(WAREHOUSE).as_uri()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from apps.datasets.registry import CONTRACTS  # noqa: E402
from apps.datasets.selectors import dataset_status_list  # noqa: E402
from apps.datasets.services.freshness import dataset_freshness_evaluate  # noqa: E402
from apps.feeds.recorded import RECORDED_FETCHES, REPLAY_KEYS, recorded_load, recorded_transport  # noqa: E402  # noqa: E402
from apps.feeds.scheduling import feeds_schedule  # noqa: E402
from apps.feeds.services import feed_fetch  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "100"))


def timed(name: str, work: Callable[[], object], runs: int = RUNS) -> None:
    for _ in range(min(10, runs)):
        work()
    wall = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        wall.append((time.perf_counter() - started) * 1000)
    wall.sort()
    print(f"{name:40} median {statistics.median(wall):7.1f} ms   p90 {wall[int(len(wall) * 0.9)]:7.1f} ms")


def main() -> None:
    call_command("platform_migrate", verbosity=0)
    call_command("load_reference", verbosity=0)
    recorded_load()
    contracts = list(CONTRACTS.values())
    dataset_freshness_evaluate(now=timezone.now())  # records what is late once
    count = len(contracts)
    timed(f"freshness evaluation ({count} contracts)", lambda: dataset_freshness_evaluate(now=timezone.now()))
    timed(
        f"statuses of {count} datasets", lambda: dataset_status_list(contracts=contracts, now=timezone.now())
    )
    feeds_schedule(now=timezone.now())  # the first pass sends; the next ones find every window sent
    # With the real-time feeds (decision 0042) each pass also checks their intervals of the catch-up.
    timed("calendar scheduler pass", lambda: feeds_schedule(now=timezone.now()))
    fred = next(f for f in RECORDED_FETCHES if f.provider == "FRED")
    timed(
        "fetch FRED DGS10 (replay, enforced)",
        lambda: feed_fetch(
            provider=fred.provider,
            dataset=fred.dataset,
            window=fred.window,
            transport=recorded_transport(fred.answer),
            keys=REPLAY_KEYS,
        ),
        runs=20,
    )


if __name__ == "__main__":
    main()
