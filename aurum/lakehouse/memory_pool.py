"""Which allocator Arrow uses in a worker process (decision 0050), and how the C allocator keeps what numpy
frees (decision 0061).

pyarrow's default pool is mimalloc, which hands freed memory back to the system within milliseconds; a worker
that builds, sorts, hashes and writes one Arrow table per scenario run then faults the same amount in again,
and the kernel zeroes every page (transparent huge pages: 2 MB at a time). Profiled over 100 runs on two
thread workers (perf, 2026-12-03), clearing pages was 16-21 % of the workers' CPU and a third of it system
time; with jemalloc, which keeps freed pages for reuse a while, it no longer showed.

numpy's arrays come from the C library's malloc instead. glibc serves blocks above its mmap threshold (128 KB
at first) with fresh mappings, and returns a heap's free top above its trim threshold to the system; with
eight run threads (eight arenas) both happen on every run, and the next run faults the pages in again. Over
100 runs (``bench/scenario_runs.py``), 624-654 thousand minor faults fell to 360-396 thousand with both
thresholds raised.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import pyarrow as pa
import structlog

log = structlog.get_logger(__name__)

BACKEND = "jemalloc"


def arrow_memory_pool_configure() -> str:
    """Make jemalloc Arrow's default pool in this process when pyarrow has it; the backend now in use."""
    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    except NotImplementedError:  # a pyarrow built without jemalloc: keep its default
        log.warning("arrow jemalloc pool unavailable", backend=pa.default_memory_pool().backend_name)
    return str(pa.default_memory_pool().backend_name)


# mallopt's parameters (malloc.h) and glibc's ceiling for the mmap threshold on 64-bit (HEAP_MAX_SIZE / 2).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MMAP_THRESHOLD = 32 * 1024 * 1024
# Free heap kept before any is returned: a worker's resident memory stays at its peak (flat, not sawtooth).
TRIM_THRESHOLD = 1 << 30


def _mallopt(purpose: str) -> Callable[[int, int], int] | None:
    """glibc's ``mallopt``, or None (logged: what is then left undone) where the C library has none."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        log.warning("mallopt unavailable", left_undone=purpose)
        return None
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return cast(Callable[[int, int], int], mallopt)


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks")
        + ("fordblks", "keepcost")
    ]


@dataclass(frozen=True)
class MallocTotals:
    """glibc's malloc totals over all arenas (``mallinfo2``), in bytes."""

    in_use: int  # uordblks: allocated from the heaps
    free_kept: int  # fordblks: freed, kept by the heaps
    mmapped: int  # hblkhd: in blocks mapped on their own
    heap: int  # arena: the heaps' size


def malloc_totals() -> MallocTotals | None:
    """This process's glibc malloc totals, or None where the C library has no ``mallinfo2`` (not glibc 2.33+).
    For measuring what a process keeps (bench/, the memory tests)."""
    try:
        mallinfo2 = ctypes.CDLL(None).mallinfo2
    except (OSError, AttributeError):
        return None
    mallinfo2.restype = _MallInfo2
    info = mallinfo2()
    return MallocTotals(in_use=info.uordblks, free_kept=info.fordblks, mmapped=info.hblkhd, heap=info.arena)


def malloc_retain_configure() -> bool:
    """Serve blocks up to 32 MB from the heap and keep up to 1 GiB of freed heap in this process (and the
    processes it forks), so a run reuses the previous run's pages; False where the C library has no
    ``mallopt`` (not glibc) or refuses a value."""
    mallopt = _mallopt("freed memory goes back to the system")
    if mallopt is None:
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def malloc_arenas_limit(arenas: int) -> bool:
    """Let glibc's malloc make at most ``arenas`` arenas in this process (call before its threads start).

    glibc gives each new thread an arena of its own at its first allocation, up to eight per core; with the
    trim threshold above, each keeps what it freed. A worker of 32 waiting threads (webhook deliveries) thus
    kept 16 arenas' worth of free memory, which grew for as long as arenas reached new peaks (+0.9 to +2.7
    MB/min in 10-minute soaks, 2026-12-04). Its threads mostly wait on the network, so they should seldom
    contend for two arenas (not measured). False where ``mallopt`` is unavailable or refuses."""
    mallopt = _mallopt("malloc arenas not limited")
    if mallopt is None:
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))


# A web process's request threads (gunicorn's gthread pool, the ASGI server's kept threads) share this many.
WEB_MALLOC_ARENAS = 2


def web_malloc_arenas_limit() -> bool:
    """Bound a web process's malloc arenas (decision 0074): ``AURUM_WEB_MALLOC_ARENAS``, 2 by default, 0 for
    glibc's own (eight a core). Called where a web process loads Aurum (aurum/wsgi.py, aurum/asgi.py), before
    any request thread exists. In a traced soak a web process's resident growth was glibc's freed-but-kept
    memory over 16 arenas (a gunicorn worker's 24.5 -> 46.4 MB in eight minutes), not Python objects; the
    request threads mostly run under the GIL, so two arenas are seldom contended."""
    value = os.environ.get("AURUM_WEB_MALLOC_ARENAS") or str(WEB_MALLOC_ARENAS)
    if not value.isdigit():
        raise ValueError(
            f"AURUM_WEB_MALLOC_ARENAS must be a whole number (0: glibc's own limit), not {value!r}"
        )
    arenas = int(value)
    return arenas > 0 and malloc_arenas_limit(arenas)
