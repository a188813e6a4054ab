"""A tenant of its own plan for usage and quota tests (the test world's plans are shared: never change them),
with an admin and an analyst, each holding a full-scope token."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

_serial = itertools.count()


@dataclass
class QuotaTenant:
    tenant: Any
    plan: Any
    tokens: dict[str, Any] = field(default_factory=dict)  # role -> ApiToken
    raw: dict[str, str] = field(default_factory=dict)  # role -> bearer value

    def auth(self, role: str = "admin") -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.raw[role]}"}

    def credential(self, role: str = "admin") -> str:
        return f"token:{self.tokens[role].pk}"


def quota_tenant(*, datasets: tuple[str, ...] = (), **limits: int) -> QuotaTenant:
    """A new plan (high rate limits, the given quotas) and a tenant on it."""
    from apps.accounts.services import api_token_create, membership_create, user_create
    from tenants.services import plan_ensure, tenant_create

    stamp = f"{time.time_ns() % 10**10}{next(_serial)}"
    plan = plan_ensure(
        code=f"quota-{stamp}",
        name=f"Quota {stamp}",
        datasets=datasets,
        **{"requests_per_second": 100_000, "burst": 100_000, **limits},
    )
    tenant = tenant_create(name=f"Quota {stamp}", schema_name=f"q{stamp}", plan=plan)
    made = QuotaTenant(tenant=tenant, plan=plan)
    for role in ("admin", "analyst"):
        user = user_create(email=f"{role}{stamp}@quota.example", password=None)
        membership = membership_create(user=user, tenant=tenant, role=role)
        token, raw = api_token_create(membership=membership, name=f"{role} token")
        made.tokens[role], made.raw[role] = token, raw
    return made
