"""Memory of one process ingesting workbook after workbook (issue 14, decision 0052): what the busy ingest
child of the soak does, without the rest of the stack, under allocator settings given in the environment.

Run: make bench BENCH="bench/ingest_memory.py [N]"     (N workbooks after the first 5 days; default 16)
     e.g. MALLOC_ARENA_MAX=2 or ARROW_DEFAULT_MEMORY_POOL=system in front, to compare.

Seeds a fresh database and warehouse (migrate, reference data, the first 5 fixture days), then runs
``manage.py ingest_eod`` on the next N workbooks in date order in ONE process and samples its RSS every 0.5 s
(psutil). Printed: the RSS after the start-up, then the least RSS between workbooks (the "floor" after each
ingest let go of its data) at each quarter of the run, and the peak. A floor that climbs with every workbook
is memory kept; a flat floor under high peaks is the work of each ingest. It asserts nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
EOD = REPO.parent / "shared" / "fixtures" / "eod"
N = int(sys.argv[1] if len(sys.argv) > 1 else 16)
MB = 1024 * 1024


def main() -> int:
    manage = [sys.executable, str(REPO / "manage.py")]
    files = sorted(EOD.glob("EOD_*.xlsx"), key=lambda p: (p.name.split("_")[2], p.name))
    days = sorted({p.name.split("_")[2] for p in files})
    preload = [p for p in files if p.name.split("_")[2] in set(days[:5])]
    later = [p for p in files if p.name.split("_")[2] not in set(days[:5])][:N]
    env = {**os.environ, "AURUM_WARM_UP": "false"}
    for step in ([*manage, "platform_migrate", "-v", "0"], [*manage, "load_reference"]):
        subprocess.run(step, env=env, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(
        [*manage, "ingest_eod", *map(str, preload)], env=env, cwd=REPO, check=True, stdout=subprocess.DEVNULL
    )
    settings = {
        k: os.environ[k] for k in ("MALLOC_ARENA_MAX", "ARROW_DEFAULT_MEMORY_POOL") if k in os.environ
    }
    print(
        f"load average {os.getloadavg()[0]:.2f}; {len(later)} workbooks in one process; "
        f"{settings or 'defaults'}",
        flush=True,
    )
    process = subprocess.Popen(
        [*manage, "ingest_eod", *map(str, later)], env=env, cwd=REPO, stdout=subprocess.DEVNULL
    )
    samples: list[tuple[float, int]] = []
    watched = psutil.Process(process.pid)
    started = time.monotonic()

    def sample() -> None:
        while process.poll() is None:
            try:
                samples.append((time.monotonic() - started, watched.memory_info().rss))
            except psutil.NoSuchProcess:
                return
            time.sleep(0.5)

    sampler = threading.Thread(target=sample)
    sampler.start()
    process.wait()
    sampler.join()
    quarter = max(len(samples) // 4, 1)
    floors = [min(rss for _, rss in samples[i : i + quarter]) / MB for i in range(0, len(samples), quarter)]
    print(
        f"  {samples[-1][0]:.0f} s; RSS at 5 s {next(r for t, r in samples if t >= 5) / MB:.0f} MB; "
        f"least RSS per quarter {' / '.join(f'{f:.0f}' for f in floors)} MB; "
        f"last {samples[-1][1] / MB:.0f} MB; "
        f"peak {max(r for _, r in samples) / MB:.0f} MB",
        flush=True,
    )
    return process.returncode


if __name__ == "__main__":
    sys.exit(main())
