"""gunicorn's threaded worker, leaving a new connection to a sibling while all its threads are busy
(decision 0063).

gunicorn's ``gthread`` worker accepts every connection the kernel hands it, busy or not, and a kept-alive
connection then stays with the worker that accepted it. With several workers on one listening socket the
first to wake takes most of them: 16 clients on 2 workers split 14/2, 13/3 and 16/0 in three runs
(docs/performance.md), so most requests queue behind one process's GIL while the other idles.

This worker stops listening while each of its threads is busy, so a new connection goes to a worker that can
serve it now, and takes a waiting connection first when a thread frees. When every worker stays busy (under
steady load a kept-alive request is nearly always queued when a thread frees), a busy worker still accepts
one connection once it has not listened for ``ACCEPT_GRACE_SECONDS``: a new connection waits that much longer
at most, never indefinitely. Kept-alive connections are untouched: they wait in the poller, not on a thread,
and are served by the worker that holds them, as before.
"""

from __future__ import annotations

import time
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

# How long a worker whose threads are all busy leaves new connections to its siblings before it takes one.
ACCEPT_GRACE_SECONDS = 0.05


class BalancedThreadWorker(ThreadWorker):
    """``gthread`` that leaves new connections to a sibling while all of its threads are busy."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Requests handed to the thread pool and not finished (queued ones included). Main thread only.
        self.in_flight = 0
        self.full_since: float | None = None  # when the worker last stopped listening because it was full

    def has_free_thread(self) -> bool:
        return self.in_flight < self.cfg.threads

    def may_accept(self) -> bool:
        if self.has_free_thread():
            self.full_since = None
            return True
        now = time.monotonic()
        if self.full_since is None:
            self.full_since = now
        return now - self.full_since >= ACCEPT_GRACE_SECONDS

    def set_accept_enabled(self, enabled: bool) -> None:
        # gunicorn's loop asks to accept whenever it is under worker_connections (on every pass: each event,
        # or every second); this adds "and a thread is free, or it has left them to its siblings long enough".
        super().set_accept_enabled(enabled and self.may_accept())

    def enqueue_req(self, conn: Any) -> None:
        self.in_flight += 1
        super().enqueue_req(conn)
        if not self.has_free_thread():
            if self.full_since is None:
                self.full_since = time.monotonic()
            self.set_accept_enabled(False)

    def accept(self, listener: Any) -> None:
        full = not self.has_free_thread()
        super().accept(listener)
        if full:  # took one while full, after the grace period: leave the next to the siblings again
            self.full_since = time.monotonic()

    def finish_request(self, conn: Any, fs: Any) -> None:
        self.in_flight -= 1
        super().finish_request(conn, fs)
        # A read-ahead request goes straight back to the pool (enqueue_req above counts it again).
        can_accept = self.alive and self.nr_conns < self.worker_connections
        if can_accept and self.has_free_thread():
            # A connection waiting to be accepted has waited at least as long as any kept-alive one that is
            # ready: it takes the free thread first. accept() does nothing if none waits (EAGAIN).
            # (The listeners are non-blocking since the loop first enabled them.)
            for listener in self.sockets:
                self.accept(listener)
        self.set_accept_enabled(can_accept)
