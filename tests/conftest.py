"""Test world: two tenants created once per session (committed), each test rolled back.

acme: plan "enterprise" (every vendor dataset); globex: plan "standard" plus an EUGP entitlement.
Each has an admin, an analyst and a viewer, each with a full-scope token.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO.parent / "shared" / "fixtures"


@dataclass
class Member:
    email: str
    password: str
    role: str
    token: str
    membership_id: int
    token_id: int


@dataclass
class TenantWorld:
    schema: str
    name: str
    host: str
    pk: int
    members: dict[str, Member] = field(default_factory=dict)

    def auth(self, role: str = "analyst") -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.members[role].token}"}


@dataclass
class World:
    acme: TenantWorld
    globex: TenantWorld
    ops: TenantWorld  # the platform's market-data operators (is_operator): they may load vendor datasets
    staff_email: str = "staff@aurum.example"
    staff_password: str = "staff-password-123"


_WORLD: World | None = None


def _build_world() -> World:
    from apps.accounts.services import api_token_create, membership_create, user_create
    from tenants.services import entitlement_grant, plan_ensure, tenant_create, tenant_template_ensure

    tenant_template_ensure()
    from apps.reference.services import reference_load

    reference_load(source_dir=FIXTURES / "aurum-original")
    # Limits high enough that no test is throttled by another's requests (test_throttling has its own plan).
    limits = {"requests_per_second": 100_000, "burst": 100_000}
    enterprise = plan_ensure(
        code="enterprise",
        name="Enterprise",
        datasets=["vendor:EUGP", "vendor:PW", "vendor:RP", "vendor:SIMPLE"],
        **limits,
    )
    standard = plan_ensure(code="standard", name="Standard", datasets=[], **limits)
    worlds = {}
    tenants = (
        ("acme", "Acme Energy", enterprise),
        ("globex", "Globex Power", standard),
        ("ops", "Aurum Market Data", enterprise),
    )
    for schema, name, plan in tenants:
        tenant = tenant_create(name=name, schema_name=schema, plan=plan)
        if schema == "ops":
            tenant.is_operator = True
            tenant.save(update_fields=["is_operator"])
        if schema == "globex":
            entitlement_grant(tenant=tenant, dataset="vendor:EUGP")
        world = TenantWorld(schema=schema, name=name, host=f"{schema}.localhost", pk=tenant.pk)
        for role in ("admin", "trader", "analyst", "viewer"):
            email = f"{role}@{schema}.example"
            password = f"{role}-{schema}-password"
            user = user_create(email=email, password=password)
            membership = membership_create(user=user, tenant=tenant, role=role)
            token, raw = api_token_create(membership=membership, name=f"{role} token")
            world.members[role] = Member(email, password, role, raw, membership.pk, token.pk)
        worlds[schema] = world
    user_create(email="staff@aurum.example", password="staff-password-123", is_staff=True)
    return World(acme=worlds["acme"], globex=worlds["globex"], ops=worlds["ops"])


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    global _WORLD
    with django_db_blocker.unblock():
        _WORLD = _build_world()
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


@pytest.fixture
def world(db: None) -> World:
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


def database_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db.get('USER') or 'postgres'}@{db.get('HOST')}:{db.get('PORT')}/{db['NAME']}"


# --- real processes: an ASGI server (uvicorn, in a thread) and a Celery worker (subprocess) ---------------


class LiveServer:
    def __init__(self) -> None:
        import uvicorn

        from aurum.devstack.services import free_port

        self.port = free_port()
        config = uvicorn.Config(
            "aurum.asgi:application", host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("live server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def asgi_server(django_db_setup: None, django_db_blocker: Any) -> Iterator[LiveServer]:
    server = LiveServer()
    with django_db_blocker.unblock():
        server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup: None) -> Iterator[subprocess.Popen[bytes]]:
    """A real worker process on the test database and the test Redis."""
    env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "aurum.settings.test"}
    log = open(Path(settings.VAR_DIR) / "test-worker.log", "wb")  # noqa: SIM115 - closed at teardown
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "aurum",
            "worker",
            "--pool",
            "threads",
            "--concurrency",
            "4",
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
    from aurum.health.checks import check_worker

    deadline = time.monotonic() + 60
    while True:
        try:
            check_worker()
            break
        except RuntimeError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Celery worker did not start; see test-worker.log") from None
            time.sleep(0.2)
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
