"""A dependency that is down is a 503 problem (retry later), never a 500; Redis is asked once and again at
most, never for seconds (decision 0043; the full drill: tests/resilience/test_service_outages.py).

The database errors are real: the test's own Postgres session is ended from another session, as a Postgres
restart ends every session, and the next request on it fails as a web process's stale connection would.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import kombu.exceptions
import psycopg
import pytest
from django.db import OperationalError, close_old_connections, connection
from django.test import RequestFactory

from aurum.api.problems import api_server_error, problem_exception_handler
from aurum.api.throttling import rate_take
from aurum.celery import AurumCelery
from aurum.devstack.services import free_port
from tests.support.world import database_url


def _end_this_session() -> None:
    """What a Postgres restart does to a web process's persistent connection: ended by the server."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    url = database_url().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.fixture
def api():
    """A client that answers what a server answers (the default test client re-raises a view's error)."""
    from rest_framework.test import APIClient

    return APIClient(raise_request_exception=False)


@pytest.fixture
def dead_connection(committed_world) -> Iterator[None]:
    _end_this_session()
    yield
    close_old_connections()  # what the end of a request does in a server: the dead connection is dropped
    connection.close()


def test_an_api_request_on_a_database_connection_the_server_ended_is_a_503_problem(
    committed_world, dead_connection, api
):
    response = api.get("/api/v2/me", **committed_world.acme.auth())

    body = response.json()
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "5"
    assert body["type"] == "https://aurum.dev/problems/unavailable"
    assert body["title"] == "Service Unavailable"
    assert body["detail"] == "A service Aurum depends on is unavailable right now; retry in a few seconds."
    assert body["instance"] == "/api/v2/me"
    assert "terminat" not in response.content.decode()  # the server's message is logged, not shown


def test_the_next_request_after_the_dead_connection_is_dropped_is_served(committed_world, api):
    _end_this_session()
    refused = api.get("/api/v2/me", **committed_world.acme.auth())
    close_old_connections()  # request_finished in a server (the test client leaves it out)

    served = api.get("/api/v2/me", **committed_world.acme.auth())

    assert refused.status_code == 503
    assert served.status_code == 200
    assert served.json()["email"] == committed_world.acme.members["analyst"].email


def test_a_portal_page_on_a_dead_connection_is_the_portal_s_503_page(committed_world, dead_connection, api):
    response = api.get("/", HTTP_HOST=committed_world.acme.host)

    html = response.content.decode()
    assert response.status_code == 503
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Retry-After"] == "5"
    assert "<h1>Temporarily unavailable</h1>" in html
    assert "Traceback" not in html and "terminat" not in html


def test_a_database_error_in_a_view_is_a_503_problem_and_any_other_error_a_500(rf: RequestFactory):
    from rest_framework.request import Request

    request = Request(rf.get("/api/v2/curves"))

    unavailable = problem_exception_handler(
        OperationalError("the database system is starting up"), {"request": request}
    )
    broken = problem_exception_handler(ValueError("a bug"), {"request": request})

    assert unavailable.status_code == 503 and unavailable["Retry-After"] == "5"
    assert unavailable.data["type"] == "https://aurum.dev/problems/unavailable"
    assert "starting up" not in str(unavailable.data)
    assert broken.status_code == 500 and broken.data["type"] == "https://aurum.dev/problems/internal-error"


def test_handler500_outside_an_exception_stays_a_500(rf: RequestFactory):
    response = api_server_error(rf.get("/api/v2/curves"))

    assert response.status_code == 500


class DroppingServer:
    """A port that accepts connections and closes them at once (a Redis going away), counting them."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.accepted = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.sock.getsockname()[1]}/0"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


def test_a_rate_limit_asks_a_dying_redis_twice_at_most_then_lets_the_request_through(settings):
    server = DroppingServer()
    settings.REDIS_URL = server.url
    try:
        state = rate_take(key="aurum:rate:drill", burst=10, per_second=1.0)
    finally:
        server.close()

    assert state is None  # not enforced: availability beats strictness
    assert server.accepted == 2  # one attempt and one immediate retry (redis-py's default is 11, backing off)


def test_a_task_sent_while_redis_is_down_is_a_broker_error_its_caller_handles():
    """Not a RuntimeError after ~20 s of re-subscribing to the task's result (Celery's send_task with a Redis
    result backend): the send is tried as the publish retry policy says, then kombu's OperationalError, which
    every sender catches (TRANSIENT_ERRORS) and leaves to a beat sweep."""
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    probe = AurumCelery("probe", set_as_current=False)
    probe.config_from_object("django.conf:settings", namespace="CELERY")
    probe.conf.update(broker_url=dead, result_backend=dead)

    with pytest.raises(kombu.exceptions.OperationalError):
        probe.send_task("aurum.health.current_schema", queue="probe")


def test_tasks_sent_by_name_ask_for_no_result_unless_their_sender_does(settings):
    probe = AurumCelery("probe", set_as_current=False)
    probe.config_from_object("django.conf:settings", namespace="CELERY")

    assert probe.conf.task_ignore_result is True
    assert probe.send_task("aurum.health.current_schema", queue="probe-unserved").ignored is True
