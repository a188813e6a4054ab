"""Under ASGI, each HTTP request's synchronous work on one of a fixed set of kept threads (decision 0064).

Django's ASGI handler runs a request's synchronous parts (the middleware chain, the view, the
``request_finished`` signal) in a ``ThreadSensitiveContext`` of its own, which asgiref serves with a new
single-thread executor: a new OS thread for every request. Whatever the code keeps per thread is then made
again and thrown away on every request: the thread's DuckDB connection (aurum.lakehouse.engines) and its
Postgres connection (hence ``CONN_MAX_AGE=0`` under ASGI until this module).

``RequestThreads`` wraps the HTTP application: a request takes an idle single-thread executor from a pool of
``size`` (waiting, without a thread, while all are taken) and enters ``ThreadSensitiveContext(executor=…)``
with it, so every synchronous call of that request runs on that executor's one thread; Django's own context
inside is then a no-op (only the outermost context chooses). The executor goes back to the pool when the
request ends. Each request still runs on one thread, as Django requires, and a thread serves one request at a
time, as a gunicorn thread does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


class RequestThreads:
    """ASGI middleware for ``http``: a request's synchronous code on one of ``size`` kept threads."""

    def __init__(self, app: ASGIApp, size: int) -> None:
        if size < 1:
            raise ValueError(f"RequestThreads needs at least one thread, got {size}")
        self.app = app
        self.size = size
        self._made = 0
        # LIFO: the most recently used thread (warm caches, an open DuckDB connection) serves the next
        # request; the others stay idle. (An asyncio queue binds to the running loop on first use, not here.)
        self._idle: asyncio.LifoQueue[ThreadPoolExecutor] = asyncio.LifoQueue()

    async def _take(self) -> ThreadPoolExecutor:
        if self._idle.empty() and self._made < self.size:
            self._made += 1
            return ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"aurum-request-{self._made}")
        return await self._idle.get()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        executor = await self._take()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.app(scope, receive, send)
        finally:
            self._idle.put_nowait(executor)

    @property
    def threads_made(self) -> int:
        """How many threads the pool has made so far (at most ``size``)."""
        return self._made
