"""The test world's people and tenants, built once per test session, and the real processes tests start.

acme: plan "enterprise" (every vendor dataset and every feed); globex: plan "standard" plus an EUGP
entitlement; ops: the platform's market-data operators. Each has an admin, a trader, an analyst and a
viewer, each with a full-scope token.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from django.conf import settings

from tests.support.feeds import FEED_LICENCES
from tests.support.paths import FIXTURES


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


def build_world() -> World:
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
        datasets=["vendor:EUGP", "vendor:PW", "vendor:RP", "vendor:SIMPLE", *FEED_LICENCES],
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
