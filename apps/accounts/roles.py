"""Roles and the permissions they grant (the original Aurum's RBAC, spec section 3.1).

viewer is the original "user" role. Platform staff (Django ``is_superuser``) play the original
"super_admin" and work in the Django admin, not through tenant roles.
"""

from django.db import models


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    ANALYST = "analyst", "Analyst"
    TRADER = "trader", "Trader"
    ADMIN = "admin", "Admin"


# Managing API tokens (docs/decisions/0012): ``tokens:own`` covers a member's own tokens, ``tokens:manage``
# every token of the tenant. Viewers get neither: the portal shows them no settings; an admin issues theirs.
TOKENS_OWN = "tokens:own"
TOKENS_MANAGE = "tokens:manage"
# Inviting members, changing their roles and removing them (the portal's settings; decision 0022).
MEMBERS_MANAGE = "members:manage"
# Reading the tenant's usage and quota standing (/api/v2/usage; decision 0026): a commercial matter, admins.
USAGE_READ = "usage:read"
# Creating, changing and deleting the tenant's webhook endpoints and reading their delivery log (0025).
WEBHOOKS_MANAGE = "webhooks:manage"
# Reading and exporting the tenant's audit ledger (docs/decisions/0028).
AUDIT_READ = "audit:read"
# Exporting the whole tenant as an archive and downloading it (docs/decisions/0033).
TENANT_EXPORT = "tenant:export"

_VIEWER = frozenset({"curves:read", "scenarios:read"})
_ANALYST = _VIEWER | {"scenarios:run", TOKENS_OWN}
_TRADER = _ANALYST | {"curves:write", "scenarios:write", "scenarios:delete"}
_ADMIN = _TRADER | {
    "admin:read",
    "admin:feature_flags",
    "admin:rate_limits",
    "admin:trino",
    TOKENS_MANAGE,
    MEMBERS_MANAGE,
    USAGE_READ,
    WEBHOOKS_MANAGE,
    AUDIT_READ,
    TENANT_EXPORT,
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.VIEWER: _VIEWER,
    Role.ANALYST: _ANALYST,
    Role.TRADER: _TRADER,
    Role.ADMIN: _ADMIN,
}

ALL_PERMISSIONS: frozenset[str] = frozenset().union(*ROLE_PERMISSIONS.values())


def role_permissions(role: str) -> frozenset[str]:
    return ROLE_PERMISSIONS.get(role, frozenset())
