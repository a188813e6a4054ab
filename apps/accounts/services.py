"""Writes on identity: users, memberships, tokens."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import ApiToken, Membership, User
from apps.accounts.roles import Role, role_permissions
from apps.accounts.tokens import token_generate, token_hash, token_hash_matches, token_parse
from tenants.models import Tenant

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
        raise ValidationError({"email": "A user with this email already exists."})
    return User.objects.create_user(
        email, password, full_name=full_name, is_staff=is_staff, is_superuser=is_staff
    )


def membership_create(*, user: User, tenant: Tenant, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role '{role}'. Use one of {', '.join(Role.values)}."})
    membership, created = Membership.objects.get_or_create(user=user, tenant=tenant, defaults={"role": role})
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def api_token_create(
    *,
    membership: Membership,
    name: str,
    scopes: Iterable[str] | None = None,
    expires_at: datetime | None = None,
    created_by: User | None = None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its raw value, which is shown once and never stored."""
    granted = role_permissions(membership.role)
    requested = frozenset(scopes) if scopes is not None else granted
    unknown = requested - granted
    if unknown:
        raise ValidationError(
            {"scopes": f"The role '{membership.role}' cannot grant: {', '.join(sorted(unknown))}."}
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    if not name.strip():
        raise ValidationError({"name": "A token needs a name."})
    raw, parts = token_generate()
    token = ApiToken.objects.create(
        membership=membership,
        name=name.strip(),
        prefix=parts.prefix,
        key_hash=token_hash(parts.secret),
        scopes=sorted(requested),
        expires_at=expires_at,
        created_by=created_by,
    )
    return token, raw


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_authenticate(*, raw: str) -> ApiToken:
    """Resolve a raw bearer token to its live token row, or raise TokenInvalidError."""
    parts = token_parse(raw)
    if parts is None:
        raise TokenInvalidError("malformed")
    token = (
        ApiToken.objects.select_related("membership__user", "membership__tenant__plan")
        .filter(prefix=parts.prefix)
        .first()
    )
    if token is None or not token_hash_matches(parts.secret, token.key_hash):
        raise TokenInvalidError("unknown")
    now = timezone.now()
    if token.revoked_at is not None:
        raise TokenInvalidError("revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenInvalidError("expired")
    if not token.membership.user.is_active:
        raise TokenInvalidError("user inactive")
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
