"""What grew in a process profiled during a soak (bench/soak_trace; SOAK_TRACEMALLOC=asgi,worker-ingest).

Run: .venv/bin/python bench/soak_trace_report.py var/soak/logs/<stamp>/trace [FIRST] [TOP]

Per process (pid): its series of RSS, bytes traced by tracemalloc, glibc malloc (in use, free but kept,
mmapped, arenas) and Arrow's pool; the lakehouse engine's kept tables, first and last (snapshots and
metadata JSON size per table) and its memos' sizes; then the allocation sites whose traced bytes grew most
between snapshot FIRST (default 1: the first after start-up) and the last, grouped by traceback (the
innermost frames of Aurum first), with the number of blocks.
"""

from __future__ import annotations

import json
import sys
import tracemalloc
from pathlib import Path

MB = 1024 * 1024


def frames(stat: tracemalloc.StatisticDiff, depth: int = 6) -> str:
    """The innermost frames, and the innermost frame of the project's code if it is deeper."""
    lines = [f"{f.filename.split('site-packages/')[-1]}:{f.lineno}" for f in stat.traceback[:depth]]
    ours = next(
        (
            f
            for f in stat.traceback
            if "/site-packages/" not in f.filename and "/lib/python" not in f.filename
        ),
        None,
    )
    if ours is not None and f"{ours.filename}:{ours.lineno}" not in lines:
        lines.append(f"… {ours.filename.split('/wt-soak/')[-1]}:{ours.lineno}")
    return " < ".join(lines)


def kept_tables(lines: list[dict[str, object]]) -> None:
    """The engine's kept tables in the first and the last line that names them, and its memos' sizes."""
    named = [line for line in lines if "kept_tables" in line]
    if not named:
        return
    first, last = named[0], named[-1]
    before: dict[str, dict[str, int]] = first["kept_tables"]  # type: ignore[assignment]
    after: dict[str, dict[str, int]] = last["kept_tables"]  # type: ignore[assignment]
    print(f"\nkept tables, line {first['n']} → {last['n']}; plans {first['plans']} → {last['plans']}")
    print("| table | snapshots | snapshot log | metadata log | metadata JSON KB |")
    print("|---|---|---|---|---|")
    for identifier in sorted(after, key=lambda name: -after[name]["json_bytes"]):
        a, b = before.get(identifier, {}), after[identifier]
        print(
            f"| {identifier} | {a.get('snapshots', '-')} → {b['snapshots']} | "
            f"{a.get('snapshot_log', '-')} → {b['snapshot_log']} | "
            f"{a.get('metadata_log', '-')} → {b['metadata_log']} | "
            f"{a.get('json_bytes', 0) / 1024:.0f} → {b['json_bytes'] / 1024:.0f} |"
        )


def report(folder: Path, first: int, top: int) -> None:
    for series in sorted(folder.glob("*.jsonl")):
        pid = series.stem
        lines = [json.loads(line) for line in series.read_text().splitlines()]
        if not lines:
            continue
        print(f"\n## pid {pid}: {lines[0]['argv'][:100]}")
        print(
            "| n | RSS MB | traced MB | malloc in use MB | malloc free kept MB | mmapped MB | arenas "
            "| arrow MB |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for line in lines:
            print(
                f"| {line['n']} | {line['rss'] / MB:.1f} | {line.get('traced', 0) / MB:.1f} | "
                f"{line.get('malloc_in_use', 0) / MB:.1f} | {line.get('malloc_free_kept', 0) / MB:.1f} | "
                f"{line.get('malloc_mmapped', 0) / MB:.1f} | {line.get('malloc_arenas', '')} | "
                f"{line.get('arrow_allocated', 0) / MB:.1f} |"
            )
        kept_tables(lines)
        snaps = sorted(folder.glob(f"{pid}-*.snap"))
        if len(snaps) <= first:
            continue
        filters = [
            tracemalloc.Filter(False, tracemalloc.__file__),
            tracemalloc.Filter(False, "<frozen *>"),
            tracemalloc.Filter(False, "*/soak_trace/sitecustomize.py", all_frames=True),
        ]
        old = tracemalloc.Snapshot.load(str(snaps[first])).filter_traces(filters)
        new = tracemalloc.Snapshot.load(str(snaps[-1])).filter_traces(filters)
        diff = new.compare_to(old, "traceback")
        print(f"\ngrowth from snapshot {first} to {len(snaps) - 1} (traceback), top {top}:")
        for stat in diff[:top]:
            print(
                f"- {stat.size_diff / MB:+.2f} MB, {stat.count_diff:+d} blocks "
                f"(now {stat.size / MB:.2f} MB): "
                f"{frames(stat)}"
            )
        by_file = new.compare_to(old, "filename")
        print("\nby file, top 10:")
        for stat in by_file[:10]:
            print(
                f"- {stat.size_diff / MB:+.2f} MB ({stat.size / MB:.2f} MB now): "
                f"{stat.traceback[0].filename.split('site-packages/')[-1]}"
            )


if __name__ == "__main__":
    report(
        Path(sys.argv[1]),
        int(sys.argv[2]) if len(sys.argv) > 2 else 1,
        int(sys.argv[3]) if len(sys.argv) > 3 else 15,
    )
