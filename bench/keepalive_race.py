"""The soak's connection resets (issue 14, decision 0052), reproduced without Aurum: clients that reuse a
kept-alive connection after an idle time close to the server's keep-alive timeout, as locust's users do.

Run: make bench BENCH=bench/keepalive_race.py          (or .venv/bin/python bench/keepalive_race.py [SECONDS])

A gunicorn gthread worker (as deploy/gunicorn.conf.py: 2 threads) serves a WSGI app that computes ~20 ms per
request. BUSY clients keep its threads busy (GIL contention, as under load); IDLERS clients each send a
request, wait an idle time drawn around 5 s (the old keep-alive), and send the next one on the same
connection (requests, as locust's HttpUser). Printed per server keep-alive: requests, and the ones lost at
the connection level (ConnectionResetError: the server closed the idle connection without reading the
request the client had just sent on it; RemoteDisconnected: it closed it just before). First with the old
keep-alive (5 s), then with deploy/gunicorn.conf.py's (75 s, longer than the idle times). Nothing but
127.0.0.1; it asserts nothing.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from aurum.devstack.services import free_port, port_open  # noqa: E402

SECONDS = float(sys.argv[1] if len(sys.argv) > 1 else 60)
IDLE_AROUND = 5.0  # the old keep-alive: the idle times are drawn around it
BUSY, IDLERS = 4, 40
APP = """
import time
def app(environ, start_response):
    until = time.process_time() + 0.02
    while time.process_time() < until:
        pass
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
"""


def run(keepalive: int) -> Counter[str]:
    folder = Path(tempfile.mkdtemp(prefix="keepalive-race-"))
    (folder / "race_app.py").write_text(APP)
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-k",
            "gthread",
            "--threads",
            "2",
            "-w",
            "1",
            "--keep-alive",
            str(keepalive),
            "-b",
            f"127.0.0.1:{port}",
            "race_app:app",
        ],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=(folder / "gunicorn.log").open("wb"),
    )
    while not port_open(port):
        time.sleep(0.2)
    url = f"http://127.0.0.1:{port}/"
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS

    def client(idle: bool) -> None:
        session = requests.Session()
        while time.monotonic() < deadline:
            try:
                session.get(url, timeout=30)
                kind = "ok"
            except requests.ConnectionError as error:
                text = repr(error)
                kind = next(
                    (k for k in ("ConnectionResetError", "RemoteDisconnected") if k in text), text[:80]
                )
            with lock:
                outcomes[kind] += 1
            if idle:
                time.sleep(random.uniform(IDLE_AROUND - 0.5, IDLE_AROUND + 0.5))

    threads = [threading.Thread(target=client, args=(i >= BUSY,)) for i in range(BUSY + IDLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    server.terminate()
    server.wait(timeout=30)
    return outcomes


def main() -> int:
    print(
        f"load average {os.getloadavg()[0]:.2f}; {SECONDS:.0f} s per server; {BUSY} busy clients, {IDLERS} "
        f"clients idle {IDLE_AROUND - 0.5:.1f}-{IDLE_AROUND + 0.5:.1f} s between requests",
        flush=True,
    )
    for keepalive in (5, 75):
        outcomes = run(keepalive)
        lost = sum(n for kind, n in outcomes.items() if kind != "ok")
        print(
            f"gunicorn gthread keepalive {keepalive:>2} s: {sum(outcomes.values())} requests, {lost} lost "
            f"{dict(outcomes)}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
