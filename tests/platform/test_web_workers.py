"""The web server's worker class (aurum/gthread.py, decision 0063): a gunicorn worker whose threads are all
busy leaves a new connection to a sibling with a thread free, instead of accepting it and making it wait.
Real gunicorn processes on loopback, started as deploy/gunicorn.conf.py names the worker class."""

from __future__ import annotations

import http.client
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from threading import Thread

import pytest

from aurum.devstack.services import free_port

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]


def _configured_worker_class() -> str:
    namespace: dict[str, object] = {}
    exec((REPO / "deploy" / "gunicorn.conf.py").read_text(), namespace)  # the deployed setting itself
    return str(namespace["worker_class"])


@pytest.fixture
def two_single_thread_workers(tmp_path: Path) -> Iterator[int]:
    """gunicorn with the deployed worker class, 2 workers of 1 thread, serving tests/support/wsgi_pid.py."""
    port = free_port()
    log = tmp_path / "gunicorn.log"
    command = [
        str(BIN / "gunicorn"),
        "-k",
        _configured_worker_class(),
        "-w",
        "2",
        "--threads",
        "1",
        "--keep-alive",
        "75",
        "-b",
        f"127.0.0.1:{port}",
        "tests.support.wsgi_pid:application",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    try:
        pids: set[str] = set()
        deadline = time.monotonic() + 60
        while len(pids) < 2:  # both workers booted and answering
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"two workers never answered: {log.read_text()}"
            try:
                pids.add(_get(port, "/pid"))
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def _get(port: int, path: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)  # a new connection each time
    try:
        connection.request("GET", path)
        return connection.getresponse().read().decode()
    finally:
        connection.close()


def test_the_deployed_worker_class_is_the_balanced_one():
    assert _configured_worker_class() == "aurum.gthread.BalancedThreadWorker"


def test_a_new_connection_goes_to_the_worker_with_a_free_thread(two_single_thread_workers):
    port = two_single_thread_workers
    # Six times: one connection keeps a worker's only thread busy for a second; a second connection opened
    # meanwhile must be served by the other worker. (The stock gthread accepts it in either worker, the busy
    # one about half the time, where it waits for the slow request: all six right by chance is ~1.6 %.)
    for attempt in range(6):
        slow: dict[str, str] = {}
        holder = Thread(target=lambda box=slow: box.update(pid=_get(port, "/slow")))
        holder.start()
        time.sleep(0.3)  # the slow request has been accepted and holds its worker's thread
        other = _get(port, "/pid")
        holder.join()
        assert other != slow["pid"], f"attempt {attempt + 1}: served by the busy worker {other}"
