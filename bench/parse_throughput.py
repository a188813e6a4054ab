"""Parse throughput of the vendor workbook parsers on the real EOD files (and the golden workbooks).

    .venv/bin/python bench/parse_throughput.py [--repeat 5] [--limit N] [--pipeline]

For every workbook the parse runs `--repeat` times and its time is the median of those runs. Per vendor the
script prints the median and worst ms per workbook, the median per stage (read, open, load, layout, build) and
rows/s (rows over the summed per-workbook medians). `--pipeline` also times enrich + quarantine_split +
derived_strips. Fixtures are read from ../shared/fixtures beside the checkout.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

from apps.ingestion.parsers import derived_strips, enrich, parse_workbook, quarantine_split

FIXTURES = Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures"
UNITS_MAP = FIXTURES / "aurum-original" / "units_map.csv"
STAGES = ("read", "open", "load", "layout", "build")
GOLDENS = (("pw_golden.xlsx", "PW"), ("eugp_golden.xlsx", "EUGP"))


def _workbooks(limit: int | None) -> list[tuple[str, Path, str | None]]:
    """(vendor label, path, vendor override) for every real file, then the goldens."""
    found: list[tuple[str, Path, str | None]] = []
    for vendor in ("EUGP", "RP"):
        files = sorted((FIXTURES / "eod").glob(f"EOD_{vendor}_*.xlsx"))
        found.extend((vendor, path, None) for path in files[:limit])
    found.extend((f"{vendor} golden", FIXTURES / "aurum-original" / name, vendor) for name, vendor in GOLDENS)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per workbook (median is kept)")
    parser.add_argument("--limit", type=int, help="at most this many real files per vendor")
    parser.add_argument("--pipeline", action="store_true", help="also time enrich, quarantine and strips")
    args = parser.parse_args()

    per_vendor: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    rows_by_vendor: dict[str, int] = defaultdict(int)
    for label, path, vendor in _workbooks(args.limit):
        as_of = date(2025, 1, 1) if vendor else None
        runs = [parse_workbook(path, vendor=vendor, as_of=as_of) for _ in range(args.repeat)]
        timings = per_vendor[label]
        timings["total"].append(statistics.median(run.timings["total"] for run in runs))
        for stage in STAGES:
            timings[stage].append(statistics.median(run.timings[stage] for run in runs))
        rows_by_vendor[label] += runs[0].rows.num_rows
        if args.pipeline:
            samples = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                clean, _quarantined = quarantine_split(enrich(runs[0].rows, UNITS_MAP))
                derived_strips(clean)
                samples.append((time.perf_counter() - started) * 1000)
            timings["pipeline"].append(statistics.median(samples))

    columns = ("vendor", "files", "rows/file", "median ms", "max ms", "rows/s")
    header = "{:<12}{:>6}{:>11}{:>11}{:>9}{:>11}".format(*columns) + "   stages (median ms)"
    print(header)
    print("-" * len(header))
    for label, timings in per_vendor.items():
        files = len(timings["total"])
        rows_per_second = rows_by_vendor[label] / (sum(timings["total"]) / 1000)
        stages = " ".join(f"{stage} {statistics.median(timings[stage]):.1f}" for stage in STAGES)
        if args.pipeline:
            stages += f" | enrich+quarantine+strips {statistics.median(timings['pipeline']):.1f}"
        median_ms, max_ms = statistics.median(timings["total"]), max(timings["total"])
        print(
            f"{label:<12}{files:>6}{rows_by_vendor[label] // files:>11,}{median_ms:>11.1f}{max_ms:>9.1f}"
            f"{rows_per_second:>11,.0f}   {stages}"
        )


if __name__ == "__main__":
    main()
