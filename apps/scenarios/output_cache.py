"""Cached answers about a scenario's outputs (``aurum.api.read_cache``), keyed by a per-scenario version.

The version lives beside the datasets' versions (``aurum.lakehouse.versions``) under a name of its own,
``scenario-outputs:<schema>:<scenario id>``; bumping it (an administrator's invalidation) makes every cached
answer about that scenario's outputs stale at once and leaves the other scenarios' answers cached.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from aurum.api.read_cache import read_through
from aurum.lakehouse.versions import dataset_version_bump
from tenants.models import Tenant

T = TypeVar("T")
OUTPUTS_SCOPE = "scenario_outputs"


def scenario_outputs_version_name(*, schema_name: str, scenario_id: str) -> str:
    return f"scenario-outputs:{schema_name}:{scenario_id}"


def scenario_outputs_version_bump(*, schema_name: str, scenario_id: str) -> int:
    """The scenario's next outputs version (-1 when Redis is unreachable: cached answers expire by TTL)."""
    return dataset_version_bump(
        scenario_outputs_version_name(schema_name=schema_name, scenario_id=scenario_id)
    )


def scenario_outputs_read(
    *, tenant: Tenant, scenario_id: str, params: Mapping[str, Any], compute: Callable[[], T], ttl: int
) -> T:
    """``compute()``'s answer for these ``params``, cached per tenant and scenario outputs version."""
    value, _ = read_through(
        scope=OUTPUTS_SCOPE,
        tenant_id=tenant.pk,
        datasets=(),
        params={"scenario_id": scenario_id, **params},
        compute=compute,
        ttl=ttl,
        versioned=[scenario_outputs_version_name(schema_name=tenant.schema_name, scenario_id=scenario_id)],
    )
    return value
