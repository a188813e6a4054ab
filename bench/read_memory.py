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
import io
import os
import random
import subprocess
import sys
import threading
import time
from datetime import datetime
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
from aurum.lakehouse.memory_pool import malloc_totals  # noqa: E402
from aurum.wsgi import application  # noqa: E402

REQUESTS = int(sys.argv[1]) if len(sys.argv) > 1 else 16_000
THREADS = 2
# The fixture days (EOD_<vendor>_<yyyymmdd>_<hhmm>.xlsx), read as bench/soak.py reads them.
DAYS = sorted(
    {
        datetime.strptime(p.name.split("_")[2], "%Y%m%d").date().isoformat()
        for p in curve_reads.EOD.glob("EOD_*")
    }
)
ISOS = ["EU", "UK", "US", "EE"]


def memory_line() -> str:
    """RSS and anonymous memory (smaps_rollup), glibc's malloc in use and free but kept, in MB."""
    rollup = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        name, *value = line.split()
        if name in ("Rss:", "Anonymous:"):
            rollup[name] = int(value[0]) / 1024
    text = f"RSS {rollup['Rss:']:.0f} MB, anonymous {rollup['Anonymous:']:.0f} MB"
    if (totals := malloc_totals()) is not None:
        text += (
            f", malloc in use {totals.in_use / 2**20:.1f} MB, free but kept {totals.free_kept / 2**20:.1f} MB"
        )
    return text


def next_request(keys: list[str]) -> tuple[str, str]:
    """A path and query string of the soak's read mix: a copy of bench/soak_locustfile.py's CurveReads (and of
    bench/soak_prewarm.lua), its weights 5/3/3/2/1/1; change the three together. (The locustfile itself
    cannot be imported here: locust patches the standard library for gevent.)"""
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
