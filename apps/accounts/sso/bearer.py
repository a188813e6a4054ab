"""Bearer JWTs of a tenant's issuer on the v1 API (the original Aurum's integrators): the token proves who
the caller is at the tenant's provider; the member with its ``email`` acts, with the role's permissions,
narrowed to the token's ``scope`` (or ``scp``) claim when it has one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.accounts.models import Membership
from apps.accounts.sso.selectors import sso_config_for_bearer
from apps.accounts.sso.tokens import JwtInvalidError, jwt_verify
from tenants.models import Tenant


def token_scopes(claims: Mapping[str, Any]) -> frozenset[str] | None:
    """The scopes the token carries (``scope`` "a b" or ``scp`` ["a", "b"]), or None when it names none."""
    if isinstance(claims.get("scope"), str):
        return frozenset(claims["scope"].split())
    if isinstance(claims.get("scp"), list):
        return frozenset(str(item) for item in claims["scp"])
    return None


def jwt_bearer_authenticate(*, tenant: Tenant, raw: str) -> tuple[Membership, dict[str, Any], frozenset[str]]:
    """The member, claims and effective permissions of a bearer JWT for ``tenant``; JwtInvalidError when the
    tenant accepts no JWTs, the token does not verify or names no member (the same kind of answer for all)."""
    if len(raw) > 16_384:
        raise JwtInvalidError("token too long")
    config = sso_config_for_bearer(tenant=tenant)
    if config is None:
        raise JwtInvalidError("this tenant accepts no JWTs here; use an aurum_ API token")
    claims = jwt_verify(tenant_id=tenant.pk, issuer=config.issuer, audience=config.audience, token=raw)
    email = str(claims.get("email") or "").strip().lower()
    if not email:
        raise JwtInvalidError("the token has no 'email' claim")
    membership = (
        Membership.objects.select_related("user", "tenant__plan")
        .filter(tenant=tenant, user__email__iexact=email, user__is_active=True)
        .first()
    )
    if membership is None:
        raise JwtInvalidError("the token's subject is not a member of this tenant")
    permissions = membership.permissions
    scopes = token_scopes(claims)
    if scopes is not None:
        permissions = permissions & scopes
    return membership, claims, permissions
