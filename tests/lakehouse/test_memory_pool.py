"""A worker's Arrow allocator (decision 0050): jemalloc, which keeps freed pages for the next run's tables."""

from __future__ import annotations

import pyarrow as pa

from aurum.lakehouse.memory_pool import arrow_memory_pool_configure


def test_a_worker_allocates_arrow_memory_from_jemalloc():
    before = pa.default_memory_pool()
    try:
        backend = arrow_memory_pool_configure()
        table = pa.table({"value": pa.array(range(100_000), pa.float64())})
        allocated = pa.default_memory_pool().bytes_allocated()
    finally:
        pa.set_memory_pool(before)

    assert backend == "jemalloc"
    assert table.num_rows == 100_000 and allocated >= 800_000  # the table's buffer came from that pool
