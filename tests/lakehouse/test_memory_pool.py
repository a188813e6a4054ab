"""Arrow's allocator: jemalloc in a worker (decision 0050), which keeps freed pages for the next run's tables,
and in every Aurum process from its start (decisions 0071 and 0072)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pyarrow as pa
import pytest

from aurum.lakehouse.memory_pool import arrow_memory_pool_configure
from tests.support.paths import REPO


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


# In a fresh interpreter (the thresholds are process-wide and glibc adjusts them as a process runs): malloc
# and free an 8 MB block; what it added to mallinfo2's bytes in mmapped blocks, and the free heap after.
PROBE = """
import ctypes, json, sys
from aurum.lakehouse.memory_pool import malloc_retain_configure, malloc_totals
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
configured = malloc_retain_configure() if sys.argv[1] == "retain" else None
mapped_before = malloc_totals().mmapped
block = libc.malloc(8 * 1024 * 1024)
ctypes.memset(block, 1, 8 * 1024 * 1024)
mapped = malloc_totals().mmapped - mapped_before
libc.free(block)
print(json.dumps({"configured": configured, "mapped": mapped, "free_heap": malloc_totals().free_kept}))
"""


def _fresh(script: str, argument: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """``script`` run in a fresh interpreter with test settings; Arrow's pool variable unset unless given."""
    clean = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    return subprocess.run(
        [sys.executable, "-c", script, argument],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={**clean, "DJANGO_SETTINGS_MODULE": "aurum.settings.test", **environment},
    )


def _probe(mode: str) -> dict[str, int]:
    return dict(json.loads(_fresh(PROBE, mode).stdout))


def test_a_worker_keeps_freed_blocks_for_the_next_run_instead_of_returning_them():
    default, retained = _probe("default"), _probe("retain")

    # By default an 8 MB block is a fresh mapping, unmapped (and faulted in anew) once freed.
    assert default["mapped"] >= 8 * 1024 * 1024
    assert default["free_heap"] < 8 * 1024 * 1024
    # Configured: it comes from the heap, and stays there as free heap for the next allocation.
    assert retained["configured"] is True
    assert retained["mapped"] == 0
    assert retained["free_heap"] >= 8 * 1024 * 1024


# In a fresh interpreter: 16 threads alive at once, each taking a block from malloc (below the mmap threshold,
# so from an arena), then glibc's malloc_stats, which prints one "Arena N:" paragraph per arena to stderr.
# The argument: "limit" (two arenas asked for), "default", or a module imported first (an entry point).
ARENAS_PROBE = """
import ctypes, importlib, sys, threading
from aurum.lakehouse.memory_pool import malloc_arenas_limit
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
limited = None
if sys.argv[1] == "limit":
    limited = malloc_arenas_limit(2)
elif sys.argv[1] != "default":
    importlib.import_module(sys.argv[1])
together = threading.Barrier(16)
blocks = []
def deliver():
    blocks.append(libc.malloc(64 * 1024))
    together.wait()
threads = [threading.Thread(target=deliver) for _ in range(16)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(limited, flush=True)
libc.malloc_stats()
"""


def _arenas(mode: str, **environment: str) -> tuple[str, int]:
    done = _fresh(ARENAS_PROBE, mode, **environment)
    said = done.stdout.strip().splitlines()[-1]
    return said, sum(1 for line in done.stderr.splitlines() if line.startswith("Arena "))


def test_a_worker_of_waiting_threads_shares_two_malloc_arenas_instead_of_one_a_thread():
    """The webhooks worker's profile (decision 0069): its 32 threads would otherwise each
    take an arena (up to eight a core), each keeping what it freed."""
    default_said, default_arenas = _arenas("default")
    limited_said, limited_arenas = _arenas("limit")

    assert default_said == "None" and default_arenas > 2
    assert limited_said == "True" and 1 <= limited_arenas <= 2


@pytest.mark.parametrize("module", ["aurum.wsgi", "aurum.asgi"])
def test_a_web_processs_request_threads_share_two_malloc_arenas(module):
    """Decision 0074: in a soak a web process's growth was glibc's freed-but-kept memory over 16 arenas."""
    _, arenas = _arenas(module, AURUM_WEB_MALLOC_ARENAS="")
    _, operators_default = _arenas(module, AURUM_WEB_MALLOC_ARENAS="0")

    assert 1 <= arenas <= 2
    assert operators_default > 2  # 0: glibc's own limit, one arena a thread here


@pytest.mark.parametrize("value", ["two", "-1", "2.5"])
def test_a_web_process_refuses_an_arena_count_that_is_not_a_whole_number(monkeypatch, value):
    from aurum.lakehouse.memory_pool import web_malloc_arenas_limit

    monkeypatch.setenv("AURUM_WEB_MALLOC_ARENAS", value)

    with pytest.raises(ValueError, match=f"AURUM_WEB_MALLOC_ARENAS must be a whole number.*{value}"):
        web_malloc_arenas_limit()


def test_a_worker_keeps_one_arena_a_thread():
    """Celery's entry point does not limit them: the CPU-bound workers keep their arenas (decision 0069)."""
    _, arenas = _arenas("aurum.celery")

    assert arenas > 2


def test_the_webhooks_worker_limits_its_arenas_before_celery_starts(monkeypatch):
    import aurum.celery
    from aurum import worker
    from aurum.lakehouse import memory_pool

    calls: list[tuple[str, object]] = []

    def limit(arenas: int) -> bool:
        calls.append(("arenas", arenas))
        return True

    monkeypatch.setattr(memory_pool, "malloc_arenas_limit", limit)
    monkeypatch.setattr(aurum.celery.app, "worker_main", lambda argv: calls.append(("celery", argv[2])))

    worker.main(["webhooks"])
    worker.main(["scenarios"])

    assert calls == [("arenas", 2), ("celery", "webhooks"), ("celery", "scenarios")]


# ``python -m aurum.worker`` up to the moment Celery would start: which pool Arrow allocates from then, before
# ``worker_init`` (where ``arrow_memory_pool_configure`` runs) and with nothing set in the environment.
WORKER_PROBE = """
import sys
import celery.app.base
def worker_main(self, argv):
    import pyarrow as pa
    print(pa.default_memory_pool().backend_name)
celery.app.base.Celery.worker_main = worker_main
from aurum import worker
worker.main([sys.argv[1]])
"""


def _probe_pool(script: str, argument: str, **environment: str) -> str:
    """The pool a fresh interpreter running ``script`` reports."""
    return _fresh(script, argument, **environment).stdout.strip().splitlines()[-1]


def test_a_worker_process_allocates_from_jemalloc_from_its_start():
    """Decision 0071: not from mimalloc while it imports, which reserves a 1 GiB arena the kernel then fills
    with huge pages."""
    assert _probe_pool(WORKER_PROBE, "maintenance") == "jemalloc"


# An entry point imported the way its server imports it (gunicorn: aurum.wsgi; uvicorn: aurum.asgi; beat and
# ``celery -A aurum``: aurum.celery; manage.py: the settings), then the pool Arrow's first allocation uses.
ENTRY_PROBE = """
import importlib, sys
importlib.import_module(sys.argv[1])
import pyarrow as pa
print(pa.default_memory_pool().backend_name)
"""


@pytest.mark.parametrize("module", ["aurum.wsgi", "aurum.asgi", "aurum.celery", "aurum.settings.test"])
def test_every_entry_point_allocates_from_jemalloc_from_its_start(module):
    """Decision 0072: the web and ASGI servers and beat too; with mimalloc a web process's 1 GiB arena held
    6-56 MB of huge pages in a soak."""
    assert _probe_pool(ENTRY_PROBE, module) == "jemalloc"


def test_an_operators_choice_of_pool_wins():
    assert _probe_pool(ENTRY_PROBE, "aurum.wsgi", ARROW_DEFAULT_MEMORY_POOL="system") == "system"
