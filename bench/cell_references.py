"""The cost of recording each point's workbook cell: parse time and memory of the largest real workbook, and
the size of one day's Parquet data file as ingestion writes it.

    .venv/bin/python bench/cell_references.py [--repeat 15] [--day 2025-09-12] [--source DIR]

`--source DIR` runs the same measurements on another source tree (e.g. a `git archive` of the commit
before cell references: `git archive e25fead apps aurum | tar -x -C /tmp/before`), so before and after are
measured by one script on the same machine. Parse: median and p90 wall ms and median CPU ms of
`parse_workbook` over `--repeat` runs after one warm-up, the median `build` stage, the Arrow size of the rows,
and, in a fresh child process per tree, one parse's peaks: Python's (tracemalloc) and Arrow's memory pool
(where the rows live; tracemalloc does not see it). Not `ru_maxrss`: Linux keeps it across exec, so a child
reports its parent's peak. Parquet: the
day's EUGP and RP rows, run through enrich, quarantine split and derived strips like ingestion, written by
pyiceberg to a throwaway SQLite catalog with the real table definition (partitioning, sort, 8,192-row row
groups, zstd), one data file per (dataset, day); sizes are those files' bytes, and the compressed bytes of
each cell column where it exists.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures"
EOD = FIXTURES / "eod"
UNITS_MAP = FIXTURES / "aurum-original" / "units_map.csv"
CELL_COLUMNS = ("source_cell", "bid_ask_sheet", "bid_ask_cell")

_CHILD = """
import json, sys, time, tracemalloc
import pyarrow as pa
from apps.ingestion.parsers import parse_workbook
path = sys.argv[1]
tracemalloc.start()
started = time.perf_counter()
result = parse_workbook(path)
elapsed = (time.perf_counter() - started) * 1000
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
pool = pa.default_memory_pool()
print(json.dumps({"cold_ms": elapsed, "tracemalloc_peak": peak, "arrow_pool_peak": pool.max_memory(),
                  "arrow_pool_backend": pool.backend_name, "rows": result.rows.num_rows}))
"""


def _largest_workbook() -> Path:
    return max(EOD.glob("EOD_*.xlsx"), key=lambda path: path.stat().st_size)


def parse_cost(path: Path, repeat: int) -> dict[str, float]:
    from apps.ingestion.parsers import parse_workbook, workbook

    # The reference-building step itself, timed by wrapping it where the tree has it (CPU time: the
    # steadier figure on a shared machine).
    step_cpu = [0.0]
    build_references = getattr(workbook, "cell_references", None)
    if build_references is not None:

        def timed_references(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return build_references(*args, **kwargs)
            finally:
                step_cpu[0] += time.process_time() - started

        workbook.cell_references = timed_references  # type: ignore[attr-defined]
    parse_workbook(path)  # warm-up: imports, caches
    step_cpu[0] = 0.0
    runs, cpu = [], []
    for _ in range(repeat):
        started = time.process_time()
        runs.append(parse_workbook(path))
        cpu.append((time.process_time() - started) * 1000)
    totals = sorted(run.timings["total"] for run in runs)
    return {
        "cell_references_cpu_ms": step_cpu[0] * 1000 / repeat,
        "median_ms": statistics.median(totals),
        "p90_ms": totals[min(len(totals) - 1, int(len(totals) * 0.9))],
        "cpu_median_ms": statistics.median(cpu),
        "build_ms": statistics.median(run.timings["build"] for run in runs),
        "rows": runs[0].rows.num_rows,
        "arrow_bytes": runs[0].rows.nbytes,
    }


def cold_parse(path: Path, source: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(source)}
    command = [sys.executable, "-c", _CHILD, str(path)]
    output = subprocess.run(command, env=env, cwd=source, capture_output=True, text=True, check=True)
    return json.loads(output.stdout)


def day_parquet_bytes(day: date) -> dict[str, int]:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.transforms import DayTransform, IdentityTransform

    from apps.ingestion.parsers import derived_strips, enrich, parse_workbook, quarantine_split
    from aurum.lakehouse.tables import CURVE_OBSERVATION_ARROW, SORT_COLUMNS, TABLE_PROPERTIES

    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as folder:
        catalog = SqlCatalog("bench", uri=f"sqlite:///{folder}/c.db", warehouse=f"file://{folder}/wh")
        catalog.create_namespace("market")
        table = catalog.create_table(
            "market.curve_observation", schema=CURVE_OBSERVATION_ARROW, properties=dict(TABLE_PROPERTIES)
        )
        with table.update_spec() as spec:
            spec.add_field("dataset", IdentityTransform(), "dataset")
            spec.add_field("asof_date", DayTransform(), "asof_day")
        for vendor in ("EUGP", "RP"):
            parsed = parse_workbook(EOD / f"EOD_{vendor}_{day:%Y%m%d}_1430.xlsx")
            clean, _ = quarantine_split(enrich(parsed.rows, UNITS_MAP))
            rows = pa.concat_tables([clean, derived_strips(clean)], promote_options="permissive")
            n = rows.num_rows
            stamped = {
                "_ingest_ts": pa.array([datetime.now(UTC)] * n, pa.timestamp("us", tz="UTC")),
                "dataset": pa.array([f"vendor:{vendor}"] * n, pa.string()),
                "ingest_run_id": pa.array([1] * n, pa.int64()),
            }
            columns = [
                stamped[f.name]
                if f.name in stamped
                else rows.column(f.name).cast(f.type)
                if f.name in rows.column_names
                else pa.nulls(n, f.type)
                for f in CURVE_OBSERVATION_ARROW
            ]
            published = pa.Table.from_arrays(columns, schema=CURVE_OBSERVATION_ARROW)
            table.append(published.sort_by([(name, "ascending") for name in SORT_COLUMNS]))
        for task in table.scan().plan_files():
            vendor = "EUGP" if "EUGP" in task.file.partition[0] else "RP"
            sizes[vendor] = int(task.file.file_size_in_bytes)
            sizes[f"{vendor}_rows"] = int(task.file.record_count)
            metadata = pq.ParquetFile(task.file.file_path.removeprefix("file://")).metadata
            for group in range(metadata.num_row_groups):
                for index in range(metadata.num_columns):
                    chunk = metadata.row_group(group).column(index)
                    if chunk.path_in_schema in CELL_COLUMNS:
                        key = f"{vendor}_{chunk.path_in_schema}"
                        sizes[key] = sizes.get(key, 0) + int(chunk.total_compressed_size)
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--day", type=date.fromisoformat, default=date(2025, 9, 12))
    parser.add_argument("--source", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args()
    source = args.source.resolve()
    sys.path.insert(0, str(source))
    os.chdir(source)

    path = _largest_workbook()
    started = time.perf_counter()
    report = {
        "source": str(source),
        "workbook": path.name,
        "bytes": path.stat().st_size,
        "parse": parse_cost(path, args.repeat),
        "cold_parse": cold_parse(path, source),
        "parquet": day_parquet_bytes(args.day),
        "bench_s": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
