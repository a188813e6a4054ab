"""The role → permission map (the original Aurum's RBAC, spec 3.1) and its effect over HTTP."""

import pytest

from apps.accounts.roles import role_permissions


def test_roles_grant_the_original_permissions_cumulatively():
    viewer = {"curves:read", "scenarios:read"}
    analyst = viewer | {"scenarios:run", "tokens:own"}
    trader = analyst | {"curves:write", "scenarios:write", "scenarios:delete"}
    admin = trader | {
        "admin:read",
        "admin:feature_flags",
        "admin:rate_limits",
        "admin:trino",
        "tokens:manage",
        "members:manage",
        "usage:read",
        "webhooks:manage",
        "audit:read",
        "tenant:export",
    }

    assert role_permissions("viewer") == viewer
    assert role_permissions("analyst") == analyst
    assert role_permissions("trader") == trader
    assert role_permissions("admin") == admin
    assert role_permissions("nobody") == frozenset()


@pytest.mark.parametrize(
    ("role", "status"), [("viewer", 403), ("analyst", 403), ("trader", 403), ("admin", 200)]
)
def test_member_list_needs_members_manage(world, api, role, status):
    assert api.get("/api/v2/members", **world.acme.auth(role)).status_code == status


def test_member_list_shows_only_this_tenants_members(world, api):
    emails = {m["email"] for m in api.get("/api/v2/members", **world.globex.auth("admin")).json()["data"]}

    assert emails == {f"{role}@globex.example" for role in ("admin", "trader", "analyst", "viewer")}
