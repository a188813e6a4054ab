"""From an identity provider's claims to an Aurum role: the tenant maps values of one claim (``groups``,
``roles``, ``aurum_role``...) to roles; when several values map, the most privileged role wins; when none
does, the tenant's default role, or no role (the sign-in is refused)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.accounts.roles import Role

# Least to most privileged.
ROLE_ORDER = (Role.VIEWER, Role.ANALYST, Role.TRADER, Role.ADMIN)
MAX_MAPPINGS = 100


def claim_values(claims: Mapping[str, Any], claim: str) -> list[str]:
    """The claim's values as strings: a list claim as it is, a string claim split on spaces and commas."""
    value = claims.get(claim)
    if isinstance(value, str):
        return [part for part in value.replace(",", " ").split() if part]
    if isinstance(value, list | tuple):
        return [str(item) for item in value if isinstance(item, str | int)]
    return []


def role_from_claims(
    *, claims: Mapping[str, Any], claim: str, mapping: Mapping[str, str], default_role: str
) -> str | None:
    mapped = {mapping[value] for value in claim_values(claims, claim) if value in mapping}
    for role in reversed(ROLE_ORDER):
        if role in mapped:
            return str(role)
    return default_role or None


def role_mapping_parse(text: str) -> dict[str, str]:
    """``value = role`` per line (the portal's form) → mapping; raises ValueError naming the bad line."""
    mapping: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.strip().startswith("#"):
            continue
        value, sep, role = line.rpartition("=")
        value, role = value.strip(), role.strip()
        if not sep or not value:
            raise ValueError(f"Line {number}: write 'claim value = role'.")
        if role not in Role.values:
            raise ValueError(f"Line {number}: '{role}' is not a role (use {', '.join(Role.values)}).")
        mapping[value] = role
    if len(mapping) > MAX_MAPPINGS:
        raise ValueError(f"At most {MAX_MAPPINGS} mappings.")
    return mapping


def role_mapping_text(mapping: Mapping[str, str]) -> str:
    return "\n".join(f"{value} = {role}" for value, role in mapping.items())
