"""Memory of opening poison workbooks (tests/support/poison.py) and, for comparison, a real RP workbook.

    .venv/bin/python bench/poison_workbooks.py

Each workbook is written to a temporary file and parsed in a fresh child process, twice: once for the peak RSS
growth (``ru_maxrss`` after the parse minus before it, the file already read: numpy, zipfile, expat and
calamine alike) and once under tracemalloc (Python's peak allocation, what tests/ingestion/test_poison.py
bounds). Prints one row per workbook: xlsx size, outcome, RSS growth, tracemalloc peak, wall time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.poison import POISONS  # noqa: E402

REAL = REPO / ".." / "shared" / "fixtures" / "eod" / "EOD_RP_20250912_1430.xlsx"
NAME = "EOD_EUGP_20250912_1430.xlsx"

CHILD = """
import json, resource, sys, time, tracemalloc
from apps.ingestion.parsers.errors import WorkbookError
from apps.ingestion.parsers.workbook import parse_workbook
data = open(sys.argv[1], "rb").read()
traced = sys.argv[3] == "traced"
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if traced:
    tracemalloc.start()
started = time.perf_counter()
try:
    outcome = f"{parse_workbook(data, filename=sys.argv[2]).rows.num_rows:,} rows"
except WorkbookError as exc:
    outcome = type(exc).__name__
seconds = time.perf_counter() - started
peak = tracemalloc.get_traced_memory()[1] if traced else 0
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"outcome": outcome, "rss_kb": after - before, "traced": peak, "seconds": seconds}))
"""


def _child(path: Path, name: str, mode: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), name, mode],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def main() -> None:
    workbooks = {name: make() for name, make in POISONS.items()}
    workbooks["real RP 2025-09-12"] = REAL.read_bytes()
    print(f"| workbook | xlsx | outcome | RSS growth | tracemalloc peak | time |\n|{'---|' * 6}")
    with tempfile.TemporaryDirectory() as folder:
        for label, data in workbooks.items():
            path = Path(folder) / "book.xlsx"
            path.write_bytes(data)
            name = REAL.name if label.startswith("real") else NAME
            plain, traced = _child(path, name, "plain"), _child(path, name, "traced")
            print(
                f"| {label} | {len(data) / 1024:,.0f} KB | {plain['outcome']} | "
                f"{int(plain['rss_kb']) / 1024:,.1f} MB | {int(traced['traced']) / 1_048_576:,.1f} MB | "
                f"{float(plain['seconds']) * 1000:,.0f} ms |"
            )


if __name__ == "__main__":
    main()
