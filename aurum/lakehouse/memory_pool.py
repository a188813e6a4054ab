"""Which allocator Arrow uses in a worker process (decision 0050).

pyarrow's default pool is mimalloc, which hands freed memory back to the system within milliseconds; a worker
that builds, sorts, hashes and writes one Arrow table per scenario run then faults the same amount in again,
and the kernel zeroes every page (transparent huge pages: 2 MB at a time). Profiled over 100 runs on two
thread workers (perf, 2026-12-03), clearing pages was 16-21 % of the workers' CPU and a third of it system
time; with jemalloc, which keeps freed pages for reuse a while, it no longer showed.
"""

from __future__ import annotations

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
