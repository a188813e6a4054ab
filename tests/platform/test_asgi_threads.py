"""Under ASGI a request's synchronous code runs on one of a few kept threads (aurum/asgi_threads.py, decision
0064), not on a new thread per request as Django's handler alone does: what a thread keeps (its Postgres and
DuckDB connections) serves the next request."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async

from aurum.asgi_threads import RequestThreads


def _thread_name() -> str:
    return threading.current_thread().name


async def _django_like(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """As Django's ASGIHandler: its own ThreadSensitiveContext, then two thread-sensitive calls (the view and
    the request_finished signal); answers with the two threads' names (unlike idents, never reused)."""
    async with ThreadSensitiveContext():
        view = await sync_to_async(_thread_name)()
        await asyncio.sleep(0.01)  # other requests interleave here
        finished = await sync_to_async(_thread_name)()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": f"{view} {finished}".encode()})


async def _call(app: Any) -> tuple[str, str]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": "http", "method": "GET", "path": "/"}, receive, send)
    view, finished = sent[-1]["body"].decode().split()
    return view, finished


def _twelve_requests(app: Any, at_once: int) -> list[tuple[str, str]]:
    async def run() -> list[tuple[str, str]]:
        answers: list[tuple[str, str]] = []
        for _ in range(12 // at_once):
            answers += await asyncio.gather(*(_call(app) for _ in range(at_once)))
        return answers

    return asyncio.run(run())


def test_every_request_runs_on_one_of_the_pool_threads_and_all_of_it_on_one():
    app = RequestThreads(_django_like, size=3)

    answers = _twelve_requests(app, at_once=4)  # more requests at once than threads: some wait their turn

    assert all(view == finished for view, finished in answers)  # a request's calls share its thread
    assert {view for view, _ in answers} == {"aurum-request-1_0", "aurum-request-2_0", "aurum-request-3_0"}
    assert app.threads_made == 3


def test_one_request_at_a_time_reuses_one_thread():
    app = RequestThreads(_django_like, size=8)

    answers = _twelve_requests(app, at_once=1)

    assert {view for view, _ in answers} == {"aurum-request-1_0"}
    assert app.threads_made == 1


def test_without_the_pool_each_request_had_a_thread_of_its_own():
    # What the pool replaces: Django's own context makes a new thread for every request.
    answers = _twelve_requests(_django_like, at_once=1)

    assert all(view == finished for view, finished in answers)
    assert len({view for view, _ in answers}) == 12


def test_the_asgi_application_serves_http_through_the_pool():
    from aurum.asgi import application

    http = application.application_mapping["http"]

    assert isinstance(http, RequestThreads)
    assert http.size == 8  # AURUM_ASGI_THREADS unset
