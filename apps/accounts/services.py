"""Writes on identity: users, memberships, tokens.

Token rules (docs/decisions/0012-token-management.md): a credential manages tokens only with ``tokens:own``
(its member's tokens) or ``tokens:manage`` (the tenant's) in its effective permissions; a token never mints
a token that outlives it or has wider scopes; a child records its parent and is revoked with it.
"""

import copy
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.accounts.credentials import Credential
from apps.accounts.models import ApiToken, Membership, User
from apps.accounts.roles import TOKENS_MANAGE, Role, role_permissions
from apps.accounts.selectors import (
    api_token_ancestry_state,
    api_token_descendant_ids,
    api_token_get_for_credential,
    membership_get,
    token_reach,
)
from apps.accounts.tokens import token_generate, token_hash, token_hash_matches, token_parse
from apps.audit.services import audit_append
from aurum.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    Issue,
    UnauthenticatedError,
)
from aurum.orm import CompiledLookup
from aurum.process_cache import InvalidatedCache
from tenants.models import Tenant
from tenants.selectors import entitlements_column, tenant_entitlements_read_with

# last_used_at is refreshed at most this often, so authentication is not a write per request.
LAST_USED_RESOLUTION = timedelta(seconds=60)


class TokenInvalidError(Exception):
    """The bearer token is unknown, malformed, revoked or expired. ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def user_create(*, email: str, password: str | None, full_name: str = "", is_staff: bool = False) -> User:
    email = email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise ConflictError(
            "A user with this email already exists.",
            issues=[Issue("email", "A user with this email already exists.", "taken")],
        )
    return User.objects.create_user(
        email, password, full_name=full_name, is_staff=is_staff, is_superuser=is_staff
    )


def membership_create(*, user: User, tenant: Tenant, role: str) -> Membership:
    if role not in Role.values:
        raise InvalidInputError.field("role", f"Unknown role '{role}'. Use one of {', '.join(Role.values)}.")
    membership, created = Membership.objects.get_or_create(user=user, tenant=tenant, defaults={"role": role})
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    """Remove a member from the tenant: its tokens, and every token minted from them, go with it."""
    audit_append(
        action="member.remove",
        resource_type="membership",
        resource_id=membership.pk,
        changes={"user": membership.user_id, "role": membership.role},
        personal={"email": membership.user.email},
        schema_name=membership.tenant.schema_name,
    )
    Membership.objects.filter(pk=membership.pk).delete()


@transaction.atomic
def api_token_create(
    *,
    membership: Membership,
    name: str,
    scopes: Iterable[str] | None = None,
    expires_at: datetime | None = None,
    created_by: User | None = None,
    parent: ApiToken | None = None,
) -> tuple[ApiToken, str]:
    """Create a token of ``membership`` and return it with its raw value, shown once and never stored.

    Scopes default to, and must lie within, what the member's role grants and, when a token mints it
    (``parent``), the parent's effective permissions. A child's expiry defaults to the parent's and may not be
    later. Callers acting for a request use ``api_token_create_as``; this is for the admin and provisioning.
    """
    issues: list[Issue] = []
    now = timezone.now()
    granted = role_permissions(membership.role)
    requested = frozenset(scopes) if scopes is not None else granted
    if beyond_role := requested - granted:
        issues.append(
            Issue("scopes", f"The role '{membership.role}' cannot grant: {', '.join(sorted(beyond_role))}.")
        )
    if parent is not None:
        parent = _parent_locked(parent=parent, membership=membership, now=now)
        if scopes is None:
            requested = requested & parent.permissions
        elif beyond_parent := (requested & granted) - parent.permissions:
            issues.append(
                Issue("scopes", f"This credential cannot grant: {', '.join(sorted(beyond_parent))}.")
            )
        if parent.expires_at is not None:
            if expires_at is None:
                expires_at = parent.expires_at
            elif expires_at > parent.expires_at:
                issues.append(
                    Issue(
                        "expires_at",
                        "A token cannot outlive the token that creates it "
                        f"(it expires at {parent.expires_at.isoformat()}).",
                        "exceeds_parent",
                    )
                )
    if expires_at is not None and expires_at <= now:
        issues.append(Issue("expires_at", "The expiry must be in the future."))
    if not name.strip():
        issues.append(Issue("name", "A token needs a name."))
    if issues:
        raise InvalidInputError.of(*issues)
    raw, parts = token_generate()
    token = ApiToken.objects.create(
        membership=membership,
        name=name.strip(),
        prefix=parts.prefix,
        key_hash=token_hash(parts.secret),
        scopes=sorted(requested),
        expires_at=expires_at,
        created_by=created_by,
        parent=parent,
    )
    audit_append(
        action="token.create",
        resource_type="api_token",
        resource_id=token.pk,
        changes={
            "name": token.name,
            "prefix": token.prefix,
            "member": membership.user_id,
            "scopes": token.scopes,
            "expires_at": expires_at,
            "parent": parent.pk if parent else None,
        },
        personal={"email": membership.user.email},
        schema_name=membership.tenant.schema_name,
    )
    return token, raw


def _parent_locked(*, parent: ApiToken, membership: Membership, now: datetime) -> ApiToken:
    """The parent row, locked so that a concurrent revocation waits for (and then includes) the child."""
    locked = (
        ApiToken.objects.select_for_update(of=("self",))
        .select_related("membership__tenant")
        .get(pk=parent.pk)
    )
    if locked.membership.tenant_id != membership.tenant_id:
        raise ForbiddenError("A token cannot create tokens in another tenant.")
    if not locked.is_usable(now):
        raise UnauthenticatedError("The token that would create this one is no longer valid.")
    return locked


def api_token_create_as(
    *,
    credential: Credential,
    name: str,
    scopes: Iterable[str] | None = None,
    expires_at: datetime | None = None,
    member_id: int | None = None,
) -> tuple[ApiToken, str]:
    """Create a token as the request's credential: for its own member (tokens:own or tokens:manage) or,
    with tokens:manage, for the tenant's member ``member_id``. A token credential becomes its parent."""
    reach = token_reach(credential.permissions)
    if reach is None:
        raise ForbiddenError(
            "Creating API tokens needs the permission 'tokens:own' or 'tokens:manage'.",
            slug="permission-denied",
        )
    owner = credential.membership
    if member_id is not None and member_id != owner.pk:
        if reach != "tenant":
            raise ForbiddenError(
                f"Creating a token for another member needs the permission '{TOKENS_MANAGE}'.",
                slug="permission-denied",
            )
        owner = membership_get(tenant=credential.membership.tenant, membership_id=member_id)
    return api_token_create(
        membership=owner,
        name=name,
        scopes=scopes,
        expires_at=expires_at,
        created_by=credential.membership.user,
        parent=credential.token,
    )


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke the token and every token minted from it, directly or not, in one transaction. Revoking again
    changes nothing (earlier revocation times are kept)."""
    with transaction.atomic():
        now = timezone.now()
        ids = api_token_descendant_ids(token_id=token.pk)
        live = (
            ApiToken.objects.select_for_update(of=("self",))
            .select_related("membership__tenant")
            .filter(pk__in=ids, revoked_at__isnull=True)
            .order_by("pk")
        )
        for row in live:
            row.revoked_at = now
            row.save(update_fields=["revoked_at"])  # one save each, so the audit log records every token
            audit_append(
                action="token.revoke",
                resource_type="api_token",
                resource_id=row.pk,
                changes={"name": row.name, "prefix": row.prefix, "cascade_from": token.pk},
                schema_name=row.membership.tenant.schema_name,
            )
    token.refresh_from_db(fields=["revoked_at"])
    return token


def api_token_revoke_as(*, credential: Credential, token_id: int) -> ApiToken:
    """Revoke a token the credential manages (403 without a token permission, 404 for one it may not see)."""
    return api_token_revoke(token=api_token_get_for_credential(credential=credential, token_id=token_id))


# Every API request looks its token up: the SQL is compiled once per thread (aurum/orm.py, decision 0054).
# The tenant's entitlements come in the same statement (every API request needs its licence).
TOKEN_BY_PREFIX: CompiledLookup[ApiToken] = CompiledLookup(
    lambda prefix: (
        ApiToken.objects.select_related("membership__user", "membership__tenant__plan")
        .annotate(tenant_entitlements=entitlements_column("membership__tenant_id"))
        .filter(prefix=prefix)
        .order_by("pk")[:1]
    ),
    "\x00token-prefix",
    shared_tables_only=True,  # accounts and tenants live in public only: no SET search_path first
)


# The token rows (with membership, user, tenant, plan and entitlements) this web process has read, by prefix,
# while it listens for the notifications that empty it when any of those tables changes (decision 0075).
# Rows, not instances: each request builds its own, so nothing one request changes reaches another. The
# secret is checked against the row on every request, as are revocation, expiry and the user's state.
_TOKEN_ROWS: InvalidatedCache[str, tuple[Any, ...]] = InvalidatedCache(
    "api tokens", topics={"credentials"}, max_entries=5_000
)


def _own_copy(value: Any) -> Any:  # noqa: ANN401
    return copy.deepcopy(value) if isinstance(value, list | dict) else value


def _token_row(prefix: str) -> tuple[Any, ...] | None:
    row = _TOKEN_ROWS.get(prefix)
    if row is None:
        ticket = _TOKEN_ROWS.ticket()
        rows = TOKEN_BY_PREFIX.rows(prefix)
        if not rows:
            return None
        row = rows[0]
        _TOKEN_ROWS.put(prefix, row, ticket)
    return row


def api_token_authenticate(*, raw: str) -> ApiToken:
    """Resolve a raw bearer token to its live token row, or raise TokenInvalidError."""
    parts = token_parse(raw)
    if parts is None:
        raise TokenInvalidError("malformed")
    row = _token_row(parts.prefix)
    # Lists and dicts in the row (scopes, entitlements) are copied: a request changes its own, never the kept.
    token = None if row is None else TOKEN_BY_PREFIX.build([tuple(map(_own_copy, row))])[0]
    if row is None or token is None or not token_hash_matches(parts.secret, token.key_hash):
        raise TokenInvalidError("unknown")
    tenant_entitlements_read_with(token.membership.tenant, token.tenant_entitlements)  # type: ignore[attr-defined]
    now = timezone.now()
    _token_check(token, now)
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
        # No notification reports a last use (decision 0075): the kept row is told here.
        _TOKEN_ROWS.replace(parts.prefix, TOKEN_BY_PREFIX.row_with(row, "last_used_at", now))
    return token


def api_token_verify(*, token_id: int) -> ApiToken:
    """The token by id if it is still live (an open websocket re-checking the token it connected with)."""
    token = (
        ApiToken.objects.select_related("membership__user", "membership__tenant__plan")
        .filter(pk=token_id)
        .first()
    )
    if token is None:
        raise TokenInvalidError("unknown")
    _token_check(token, timezone.now())
    return token


def _token_check(token: ApiToken, now: datetime) -> None:
    if token.revoked_at is not None:
        raise TokenInvalidError("revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenInvalidError("expired")
    if token.parent_id is not None:
        # Revocation cascades, and a child never outlives its parent; this also covers rows older code wrote.
        revoked, expired = api_token_ancestry_state(parent_id=token.parent_id, now=now)
        if revoked:
            raise TokenInvalidError("parent revoked")
        if expired:
            raise TokenInvalidError("parent expired")
    if not token.membership.user.is_active:
        raise TokenInvalidError("user inactive")
