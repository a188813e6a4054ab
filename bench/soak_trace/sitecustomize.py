"""Memory profile of a soak (bench/soak.py with SOAK_TRACEMALLOC): Python imports this module at start-up in
every process whose PYTHONPATH starts with this folder. With SOAK_TRACE_DIR set, a thread in the process, and
in each child it forks (gunicorn workers, Celery prefork children: ``os.register_at_fork``), waits for the
file ``<dir>/START`` (soak.py writes it when the load starts: tracing the start-up slowed it several times),
then starts tracemalloc (SOAK_TRACE_FRAMES frames) and then writes every SOAK_TRACE_INTERVAL seconds:
- a tracemalloc snapshot, ``<dir>/<pid>-<n>.snap``: the Python allocations made since the load started and
  still alive;
- a line of ``<dir>/<pid>.jsonl``: RSS, the bytes tracemalloc holds, glibc's malloc totals (mallinfo2: in
  use, free but kept, mmapped; summed over arenas), the number of malloc arenas, Arrow's pool, and the
  Iceberg tables the lakehouse engine keeps (``kept_tables``: per table, its snapshots, snapshot-log and
  metadata-log entries and its metadata's JSON size) and the size of its read-plan memo.
RSS growing while the traced bytes stay flat is memory outside Python objects (native libraries) or kept by
the allocator. Measuring only: bench/ code, never on a product path. Read with bench/soak_trace_report.py."""

from __future__ import annotations

import ctypes
import json
import os
import re
import sys
import tempfile
import threading
import time
import tracemalloc

DIR = os.environ.get("SOAK_TRACE_DIR", "")
INTERVAL = float(os.environ.get("SOAK_TRACE_INTERVAL", "60"))
FRAMES = int(os.environ.get("SOAK_TRACE_FRAMES", "12"))


# glibc's mallinfo2, as aurum.lakehouse.memory_pool.malloc_totals reads it: this module imports nothing of
# Aurum (it loads into every traced process at start-up, gunicorn's master included, and must not change it).
class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        libc.fopen.restype = ctypes.c_void_p
        libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
        libc.fclose.argtypes = [ctypes.c_void_p]
        return libc
    except (OSError, AttributeError):
        return None


def _arenas(libc: ctypes.CDLL) -> int:
    """Number of malloc arenas (``<heap nr=`` elements of malloc_info's XML)."""
    with tempfile.NamedTemporaryFile(suffix=".xml") as handle:
        stream = libc.fopen(handle.name.encode(), b"w")
        if not stream:
            return -1
        libc.malloc_info(0, stream)
        libc.fclose(stream)
        return len(re.findall(r"<heap nr=", open(handle.name).read()))


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _engine_memos(engines: object) -> dict[str, object]:
    """What the lakehouse engine keeps (read through the module object: measuring, not using it)."""
    kept: dict[str, dict[str, int]] = {}
    for (_, identifier), (_, table) in list(getattr(engines, "_tables", {}).items()):
        metadata = table.metadata
        kept[identifier] = {
            "snapshots": len(metadata.snapshots),
            "snapshot_log": len(metadata.snapshot_log),
            "metadata_log": len(metadata.metadata_log),
            "json_bytes": len(metadata.model_dump_json()),
        }
    return {"kept_tables": kept, "plans": len(getattr(engines, "_plans", {}))}


def _record(n: int) -> None:
    pid = os.getpid()
    line: dict[str, object] = {"at": time.time(), "n": n, "argv": " ".join(sys.argv)[:200], "rss": _rss()}
    if tracemalloc.is_tracing():
        line["traced"], line["traced_peak"] = tracemalloc.get_traced_memory()
        tracemalloc.take_snapshot().dump(os.path.join(DIR, f"{pid}-{n:03d}.snap"))
    libc = _libc()
    if libc is not None:
        info = libc.mallinfo2()
        line.update(
            malloc_in_use=info.uordblks,
            malloc_free_kept=info.fordblks,
            malloc_mmapped=info.hblkhd,
            malloc_arena_bytes=info.arena,
            malloc_arenas=_arenas(libc),
        )
    if "pyarrow" in sys.modules:
        line["arrow_allocated"] = sys.modules["pyarrow"].total_allocated_bytes()
    engines = sys.modules.get("aurum.lakehouse.engines")
    if engines is not None:
        line.update(_engine_memos(engines))
    with open(os.path.join(DIR, f"{pid}.jsonl"), "a") as out:
        out.write(json.dumps(line) + "\n")


def _loop() -> None:
    while not os.path.exists(os.path.join(DIR, "START")):
        time.sleep(1)
    if not tracemalloc.is_tracing():  # a child forked by a traced process traces already
        tracemalloc.start(FRAMES)
    n = 0
    while True:
        try:
            _record(n)
        except Exception as error:  # noqa: BLE001 - a measuring thread must never stop the process it measures
            print(f"soak_trace: {error!r}", file=sys.stderr)
        n += 1
        time.sleep(INTERVAL)


def _start() -> None:
    threading.Thread(target=_loop, name="soak-trace", daemon=True).start()


if DIR:
    os.makedirs(DIR, exist_ok=True)
    _start()
    os.register_at_fork(after_in_child=_start)
