"""Test world: two tenants created once per session (committed), each test rolled back.

acme: plan "enterprise" (every vendor dataset and every feed); globex: plan "standard" plus an EUGP
entitlement. Each has an admin, an analyst and a viewer, each with a full-scope token.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from aurum.queues import WORKER_START_OPTIONS, worker_queues_arg
from tests.support.observability import WORKER_METRICS, free_port, worker_spans_path
from tests.support.oidc import Provider, provider_start
from tests.support.world import LiveServer, World, build_world, database_url

REPO = Path(__file__).resolve().parents[1]
_WORLD: World | None = None


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest,
    django_test_environment: None,
    django_db_blocker: Any,
    django_db_modify_db_settings: None,
) -> Iterator[None]:
    """The test database, migrated, with the test world in it, for every session that needs it.

    pytest-django's own fixture sets up only the databases that tests marked ``django_db`` (or taking
    ``db``) ask for: a run of only live-server tests (which use ``session_world`` / ``asgi_server``) would
    get an empty database. This one always sets up the default database.
    """
    from django.test.utils import setup_databases, teardown_databases

    global _WORLD
    with django_db_blocker.unblock():
        db_cfg = setup_databases(
            verbosity=request.config.option.verbose, interactive=False, aliases=dict.fromkeys(["default"])
        )
        _WORLD = build_world()
    yield
    from django.db import connection

    from aurum.lakehouse.catalog import catalog_dispose

    catalog_dispose()
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        # Threads of the live server and worker helpers may still hold sessions; the database is dropped next.
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    with django_db_blocker.unblock():
        teardown_databases(db_cfg, verbosity=request.config.option.verbose)


@pytest.fixture(autouse=True)
def _process_caches_off() -> Iterator[None]:
    """No test leaves this process's row caches listening (decision 0075): the next test's rolled-back rows
    send no notification, so a kept row could outlive its test."""
    yield
    from aurum.process_cache import listener_stop, listening

    if listening():
        listener_stop()


@pytest.fixture
def world(db: None) -> World:
    assert _WORLD is not None
    return _WORLD


@pytest.fixture(scope="session")
def session_world(django_db_setup: None) -> World:
    """The test world for module-scoped fixtures (each must roll back or remove what it creates)."""
    assert _WORLD is not None
    return _WORLD


@pytest.fixture
def committed_world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """Database access WITHOUT the per-test transaction, for tests whose rows a real worker must see.

    Such a test commits; it must remove what it created (or use data nobody else counts).
    """
    assert _WORLD is not None
    with django_db_blocker.unblock():
        yield _WORLD


@pytest.fixture
def api() -> Any:
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture(scope="session")
def asgi_server(django_db_setup: None, django_db_blocker: Any) -> Iterator[LiveServer]:
    server = LiveServer()
    with django_db_blocker.unblock():
        server.start()
    yield server
    server.stop()


def _worker_start() -> tuple[subprocess.Popen[bytes], Any]:
    WORKER_METRICS.port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "aurum.settings.test",
        "AURUM_WORKER_METRICS_PORT": str(WORKER_METRICS.port),
        "AURUM_OTEL_EXPORTER": f"file:{worker_spans_path()}",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }
    log = open(Path(settings.VAR_DIR) / "test-worker.log", "ab")  # noqa: SIM115 - closed at teardown
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "aurum",
            "worker",
            "-Q",
            worker_queues_arg(),
            "--pool",
            "threads",
            "--concurrency",
            "4",
            *WORKER_START_OPTIONS,
            "-l",
            "INFO",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process, log


@pytest.fixture(scope="session")
def celery_worker(django_db_setup: None) -> Iterator[subprocess.Popen[bytes]]:
    """A real worker process on the test database and the test Redis, serving its metrics on
    ``WORKER_METRICS.port`` and writing its spans to ``worker_spans_path()`` (JSON lines). Started again on
    another port if the one chosen was taken meanwhile (the worker exits then)."""
    from aurum.health.checks import check_worker

    (Path(settings.VAR_DIR) / "test-worker.log").unlink(missing_ok=True)
    process, log = _worker_start()
    attempts, deadline = 1, time.monotonic() + 60
    while True:
        try:
            check_worker()
            if not WORKER_METRICS.answers():
                raise RuntimeError("the worker's metrics endpoint does not answer yet")
            break
        except RuntimeError:
            if process.poll() is not None and attempts < 3:
                log.close()
                process, log = _worker_start()
                attempts += 1
            elif process.poll() is not None or time.monotonic() > deadline:
                # The log is in this run's throwaway folder: its end goes into the error, which CI shows.
                tail = (Path(settings.VAR_DIR) / "test-worker.log").read_text(errors="replace")[-4000:]
                state = "exited" if process.poll() is not None else "still running, not ready after 60 s"
                raise RuntimeError(f"Celery worker did not start ({state}); its log ends:\n{tail}") from None
            time.sleep(0.2)
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    """A real OpenID Connect provider (django-oauth-toolkit, tests/support/oidc_provider) in its own process
    on a loopback port, for the whole session: the SSO tests (tests/sso, tests/ui)."""
    provider = provider_start(tmp_path_factory.mktemp("oidc-provider"))
    yield provider
    provider.stop()
