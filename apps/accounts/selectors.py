"""Reads on identity. Token reads follow the acting credential's effective permissions
(docs/decisions/0012-token-management.md)."""

from datetime import datetime

from django.core import signing
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.credentials import Credential
from apps.accounts.models import ApiToken, Invitation, Membership, User
from apps.accounts.roles import TOKENS_MANAGE, TOKENS_OWN
from aurum.errors import ForbiddenError, NotFoundError
from tenants.models import Tenant


def membership_for(*, user: User, tenant: Tenant) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.select_related("user", "tenant__plan").filter(user=user, tenant=tenant).first()


def membership_current(*, membership_id: int) -> Membership | None:
    """The membership if it still exists and its user is active (a websocket re-checking its session)."""
    return (
        Membership.objects.select_related("user", "tenant__plan")
        .filter(pk=membership_id, user__is_active=True)
        .first()
    )


def membership_list(*, tenant: Tenant) -> QuerySet[Membership]:
    return Membership.objects.select_related("user").filter(tenant=tenant).order_by("user__email", "id")


def membership_get(*, tenant: Tenant, membership_id: int) -> Membership:
    """A member of ``tenant``; a member of another tenant answers 404 like one that does not exist."""
    membership = (
        membership_list(tenant=tenant).select_related("tenant__plan").filter(pk=membership_id).first()
    )
    if membership is None:
        raise NotFoundError("No such member.")
    return membership


def token_reach(permissions: frozenset[str]) -> str | None:
    """Which tokens a credential manages: ``"tenant"`` (tokens:manage), ``"own"`` (tokens:own) or None."""
    if TOKENS_MANAGE in permissions:
        return "tenant"
    if TOKENS_OWN in permissions:
        return "own"
    return None


def api_token_list(*, credential: Credential) -> QuerySet[ApiToken]:
    """Tokens the credential manages: every token of the tenant with tokens:manage, its member's own with
    tokens:own. A credential with neither is refused (403), whatever its member's role."""
    reach = token_reach(credential.permissions)
    if reach is None:
        raise ForbiddenError(
            "Managing API tokens needs the permission 'tokens:own' or 'tokens:manage'.",
            slug="permission-denied",
        )
    membership = credential.membership
    tokens = ApiToken.objects.select_related("membership__user").filter(
        membership__tenant=membership.tenant_id
    )
    if reach == "own":
        tokens = tokens.filter(membership=membership)
    return tokens.order_by("-created", "-id")


def api_token_get_for_credential(*, credential: Credential, token_id: int) -> ApiToken:
    """One token the credential manages; any other answers 404 without saying whether it exists."""
    token = api_token_list(credential=credential).filter(pk=token_id).first()
    if token is None:
        raise NotFoundError("No such token.")
    return token


_DESCENDANTS = """
WITH RECURSIVE tree(id) AS (
    SELECT id FROM {table} WHERE id = %s
    UNION
    SELECT child.id FROM {table} child JOIN tree ON child.parent_id = tree.id
)
SELECT id FROM tree
"""

# UNION (not UNION ALL) ends the walk even on a cycle an admin could have written by hand.
_ANCESTRY = """
WITH RECURSIVE chain(id, parent_id, revoked_at, expires_at) AS (
    SELECT id, parent_id, revoked_at, expires_at FROM {table} WHERE id = %s
    UNION
    SELECT up.id, up.parent_id, up.revoked_at, up.expires_at
    FROM {table} up JOIN chain ON up.id = chain.parent_id
)
SELECT coalesce(bool_or(revoked_at IS NOT NULL), false), coalesce(bool_or(expires_at <= %s), false)
FROM chain
"""


def api_token_descendant_ids(*, token_id: int) -> list[int]:
    """The token and every token minted from it, directly or not (one query)."""
    with connection.cursor() as cursor:
        cursor.execute(_DESCENDANTS.format(table=ApiToken._meta.db_table), [token_id])
        return [row[0] for row in cursor.fetchall()]


def api_token_ancestry_state(*, parent_id: int, now: datetime) -> tuple[bool, bool]:
    """(revoked, expired): whether any ancestor from ``parent_id`` up is revoked or expired (one query)."""
    with connection.cursor() as cursor:
        cursor.execute(_ANCESTRY.format(table=ApiToken._meta.db_table), [parent_id, now])
        revoked, expired = cursor.fetchone()
    return bool(revoked), bool(expired)


INVITATION_SALT = "aurum.accounts.invitation"


def invitation_list_open(*, tenant: Tenant) -> QuerySet[Invitation]:
    """The tenant's invitations still waiting to be accepted (not accepted, withdrawn nor expired)."""
    return (
        Invitation.objects.select_related("invited_by")
        .filter(
            tenant=tenant, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )
        .order_by("-created", "-id")
    )


def invitation_get(*, tenant: Tenant, invitation_id: int) -> Invitation:
    invitation = (
        Invitation.objects.select_related("tenant", "invited_by")
        .filter(tenant=tenant, pk=invitation_id)
        .first()
    )
    if invitation is None:
        raise NotFoundError("No such invitation.")
    return invitation


def invitation_for_link(*, tenant: Tenant, token: str) -> Invitation:
    """The invitation an emailed link names, on the tenant's host. A forged or mangled link, or one for
    another tenant, is 404; the caller checks ``is_open()`` (accepted, withdrawn and expired ones are closed).
    """
    try:
        invitation_id = signing.loads(token, salt=INVITATION_SALT)
    except signing.BadSignature:
        raise NotFoundError("This invitation link is not valid. Check that it was copied whole.") from None
    if not isinstance(invitation_id, int):
        raise NotFoundError("This invitation link is not valid. Check that it was copied whole.")
    return invitation_get(tenant=tenant, invitation_id=invitation_id)


def user_has_account(*, email: str) -> bool:
    """Whether an Aurum user has this email (an invitation then asks for their password, not a new one)."""
    return User.objects.filter(email=email.strip().lower()).exists()
