"""A web process's memory under reads alone, without a server: the soak's read mix (v2 latest and as-of, v1 by
key, a v2 page, one tenor's history, a diff; bench/soak_locustfile.py's weights) through the WSGI application,
called by two threads in this one process, production settings, with RSS, anonymous memory and glibc's malloc
totals every 1,000 requests. Does the request path level off, and after how many requests?

Run: make bench BENCH="bench/read_memory.py 16000"     (requests, default 16,000; needs ../shared/fixtures)
``BENCH_LOADED=1`` reuses data already loaded (as bench/curve_reads.py). Results are printed, one line per
1,000 requests, and the answers' statuses at the end. Measuring only: no assertion, no product code.
"""

from __future__ import annotations

import collections
import ctypes
import io
import os
import random
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from _stack import production_env  # noqa: E402

# Plain HTTP on loopback: no redirect to HTTPS (every answer would be a 301).
os.environ.update(production_env(AURUM_SSL_REDIRECT="false"))

import curve_reads  # noqa: E402  (django.setup() under the production settings set above)

from apps.curves.models import Curve  # noqa: E402
from aurum.wsgi import application  # noqa: E402

REQUESTS = int(sys.argv[1]) if len(sys.argv) > 1 else 16_000
THREADS = 2
FIRST_DAY = date(2025, 7, 1)
DAYS = [(FIRST_DAY + timedelta(n)).isoformat() for n in range(74) if (FIRST_DAY + timedelta(n)).weekday() < 5]
ISOS = ["EU", "UK", "US", "EE"]


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks")
        + ("fordblks", "keepcost")
    ]


def memory_line() -> str:
    """RSS and anonymous memory (smaps_rollup), glibc's malloc in use and free but kept, in MB."""
    rollup = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        name, *value = line.split()
        if name in ("Rss:", "Anonymous:"):
            rollup[name] = int(value[0]) / 1024
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    info = libc.mallinfo2()
    return (
        f"RSS {rollup['Rss:']:.0f} MB, anonymous {rollup['Anonymous:']:.0f} MB, malloc in use "
        f"{info.uordblks / 2**20:.1f} MB, free but kept {info.fordblks / 2**20:.1f} MB"
    )


def next_request(keys: list[str]) -> tuple[str, str]:
    """A path and query string of the soak's read mix (the locustfile's weights 5/3/3/2/1/1)."""
    pick = random.randrange(15)
    key = quote(random.choice(keys), safe="")
    if pick < 5:
        return f"/api/v2/curves/{key}", ""
    if pick < 8:
        return f"/api/v2/curves/{key}", urlencode({"asof": random.choice(DAYS)})
    if pick < 11:
        return "/api/v1/curves", urlencode({"curve_key": random.choice(keys), "limit": 200})
    if pick < 13:
        return "/api/v2/curves", urlencode({"iso": random.choice(ISOS), "limit": 200})
    if pick < 14:
        return f"/api/v2/curves/{key}/history", urlencode({"tenor_label": "Calendar 2027"})
    first, second = sorted(random.sample(DAYS, 2))
    return "/api/v2/curves/diff", urlencode(
        {"curve_key": random.choice(keys), "asof_a": first, "asof_b": second}
    )


def call(path: str, query: str, token: str) -> str:
    """One request through the WSGI application, its body read and closed; its status code."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    status: list[str] = []

    def start_response(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        status.append(line)
        return lambda data: None

    body = application(environ, start_response)
    try:
        for _ in body:
            pass
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return status[0].split()[0]


def load() -> None:
    """The fixture days, loaded by another process (bench/curve_reads.py's load), so that this process's
    memory is the reads' alone; nothing with BENCH_LOADED=1."""
    if os.environ.get("BENCH_LOADED"):
        return
    paths = [str(REPO), str(REPO / "bench")]
    code = f"import sys; sys.path[:0] = {paths!r}; import curve_reads; curve_reads.load()"
    subprocess.run([sys.executable, "-c", code], check=True, env=os.environ.copy())


def main() -> int:
    load()
    token = curve_reads.seed_token()
    keys = list(Curve.objects.values_list("curve_key", flat=True))
    statuses: collections.Counter[str] = collections.Counter()
    done = 0
    lock = threading.Lock()

    def reader(count: int) -> None:
        nonlocal done
        for _ in range(count):
            answer = call(*next_request(keys), token)
            with lock:
                statuses[answer] += 1
                done += 1

    print(f"{REQUESTS} requests, {THREADS} threads, {len(keys)} curves, {len(DAYS)} days")
    print(f"start: {memory_line()}")
    threads = [threading.Thread(target=reader, args=(REQUESTS // THREADS,)) for _ in range(THREADS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    reported = 0
    while any(thread.is_alive() for thread in threads):
        time.sleep(0.5)
        if done - reported >= 1000:
            reported = done - done % 1000
            print(f"{done:>7,} requests {time.monotonic() - started:5.0f} s: {memory_line()}", flush=True)
    for thread in threads:
        thread.join()
    print(f"end, {done:,} requests: {memory_line()}; statuses {dict(statuses)}")
    if set(statuses) != {"200"}:
        print("not every answer was 200: the figures are not those of the reads", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
