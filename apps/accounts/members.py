"""Writes on a tenant's members, as the acting credential: invite by email, accept, change a role, remove.

Each needs ``members:manage`` in the credential's *effective* permissions (decision 0022), except accepting,
which the invitation link itself authorises. A tenant always keeps an admin: the last admin can neither be
demoted nor removed (the admins' rows are locked, so two admins demoting each other at once leave one).
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from apps.accounts.credentials import Credential
from apps.accounts.models import Invitation, Membership, User
from apps.accounts.roles import MEMBERS_MANAGE, Role
from apps.accounts.selectors import INVITATION_SALT, invitation_get, membership_get
from apps.accounts.services import membership_remove
from apps.audit.context import actor_for_user
from apps.audit.services import audit_append
from aurum.errors import ConflictError, ForbiddenError, InvalidInputError, Issue
from tenants.models import Tenant


def _require_members_manage(credential: Credential) -> None:
    if MEMBERS_MANAGE not in credential.permissions:
        raise ForbiddenError(
            f"Managing members needs the permission '{MEMBERS_MANAGE}' (tenant admins).",
            slug="permission-denied",
        )


def _role_check(role: str) -> None:
    if role not in Role.values:
        raise InvalidInputError.field("role", f"Unknown role '{role}'. Use one of {', '.join(Role.values)}.")


def _keeps_an_admin(*, membership: Membership, acting: Membership) -> None:
    """Refuse to take the tenant's last admin away (inside a transaction: the admins' rows are locked)."""
    if membership.role != Role.ADMIN:
        return
    admins = list(
        Membership.objects.select_for_update()
        .filter(tenant_id=membership.tenant_id, role=Role.ADMIN)
        .values_list("pk", flat=True)
    )
    if admins == [membership.pk]:
        who = "You are" if membership.pk == acting.pk else f"{membership.user.email} is"
        raise ConflictError(
            f"{who} the last admin of {membership.tenant.name}: make another member admin first.",
            slug="last-admin",
        )


@transaction.atomic
def membership_role_change_as(*, credential: Credential, membership_id: int, role: str) -> Membership:
    """Give a member of the credential's tenant another role (404 for another tenant's member)."""
    _require_members_manage(credential)
    _role_check(role)
    membership = membership_get(tenant=credential.membership.tenant, membership_id=membership_id)
    if role != Role.ADMIN:
        _keeps_an_admin(membership=membership, acting=credential.membership)
    if membership.role != role:
        audit_append(
            action="member.role_change",
            resource_type="membership",
            resource_id=membership.pk,
            changes={"user": membership.user_id, "from": membership.role, "to": role},
            personal={"email": membership.user.email},
            schema_name=membership.tenant.schema_name,
        )
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove_as(*, credential: Credential, membership_id: int) -> None:
    """Remove a member of the credential's tenant; their tokens (and tokens minted from them) go too."""
    _require_members_manage(credential)
    membership = membership_get(tenant=credential.membership.tenant, membership_id=membership_id)
    _keeps_an_admin(membership=membership, acting=credential.membership)
    membership_remove(membership=membership)


def invitation_link_token(invitation: Invitation) -> str:
    """The signed secret of an invitation's link: its id, signed with the secret key (expires, see
    ``invitation_get``)."""
    return signing.dumps(invitation.pk, salt=INVITATION_SALT)


def invitation_create_as(
    *, credential: Credential, email: str, role: str, accept_url_base: str
) -> Invitation:
    """Invite ``email`` to the credential's tenant with ``role``: an email with the link
    ``accept_url_base + <signed token> + "/"``, sent after commit. An open invitation to the same address is
    replaced (its link stops working)."""
    _require_members_manage(credential)
    tenant = credential.membership.tenant
    email = email.strip().lower()
    issues: list[Issue] = []
    try:
        validate_email(email)
    except ValidationError:
        issues.append(Issue("email", "Enter an email address, e.g. name@example.com."))
    if role not in Role.values:
        issues.append(Issue("role", f"Unknown role '{role}'. Use one of {', '.join(Role.values)}."))
    if not issues and Membership.objects.filter(tenant=tenant, user__email=email).exists():
        issues.append(Issue("email", f"{email} is already a member of {tenant.name}.", "already_member"))
    if issues:
        raise InvalidInputError.of(*issues)
    now = timezone.now()
    with transaction.atomic():
        Invitation.objects.filter(
            tenant=tenant, email=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        invitation = Invitation.objects.create(
            tenant=tenant,
            email=email,
            role=role,
            invited_by=credential.membership.user,
            expires_at=now + timedelta(days=settings.AURUM_INVITATION_DAYS),
        )
        audit_append(
            action="member.invite",
            resource_type="invitation",
            resource_id=invitation.pk,
            changes={"role": role, "expires_at": invitation.expires_at},
            personal={"email": email},
            schema_name=tenant.schema_name,
        )
        link = f"{accept_url_base}{invitation_link_token(invitation)}/"
        transaction.on_commit(lambda: invitation_email_send(invitation=invitation, link=link))
    return invitation


def invitation_email_send(*, invitation: Invitation, link: str) -> None:
    """Send the invitation's email (Django's email backend: SMTP, or files under var/mail/ in the demo)."""
    inviter = invitation.invited_by.email if invitation.invited_by else "An admin"
    tenant: Tenant = invitation.tenant
    expires = invitation.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    role = invitation.get_role_display().lower()
    body = (
        f"{inviter} invited you to join {tenant.name} on Aurum as {role}.\n\n"
        f"Accept the invitation and set your password here:\n{link}\n\n"
        f"The link works once and expires on {expires}. If you did not expect this email, ignore it.\n"
    )
    send_mail(f"Join {tenant.name} on Aurum", body, None, [invitation.email])


@transaction.atomic
def invitation_revoke_as(*, credential: Credential, invitation_id: int) -> Invitation:
    """Close an open invitation of the credential's tenant: its link stops working."""
    _require_members_manage(credential)
    invitation = invitation_get(tenant=credential.membership.tenant, invitation_id=invitation_id)
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_append(
            action="member.invite_revoke",
            resource_type="invitation",
            resource_id=invitation.pk,
            personal={"email": invitation.email},
            schema_name=invitation.tenant.schema_name,
        )
    return invitation


@transaction.atomic
def invitation_accept(
    *, invitation: Invitation, password: str, full_name: str = "", signed_in: User | None = None
) -> Membership:
    """Accept an open invitation: a new user sets their password; a user who already has an Aurum account
    (another tenant's member) confirms theirs, unless ``signed_in`` is that user (their credential already
    proved who they are). Creates the membership with the invited role; once only."""
    locked = Invitation.objects.select_for_update().select_related("tenant").get(pk=invitation.pk)
    if not locked.is_open():
        raise ConflictError(invitation_closed_reason(locked), slug="invitation-closed")
    if signed_in is not None and signed_in.email != locked.email:
        raise ForbiddenError(
            f"This invitation is for another email address; you are signed in as {signed_in.email}.",
            slug="invitation-other-user",
        )
    user = User.objects.filter(email=locked.email).first()
    if user is None:
        try:
            validate_password(password, User(email=locked.email, full_name=full_name))
        except ValidationError as error:
            raise InvalidInputError.of(*(Issue("password", message) for message in error.messages)) from None
        user = User.objects.create_user(locked.email, password, full_name=full_name.strip())
    elif signed_in is None and (not user.is_active or not user.check_password(password)):
        raise InvalidInputError.field(
            "password",
            f"{locked.email} already has an Aurum account: enter its password to join {locked.tenant.name}.",
        )
    membership, _ = Membership.objects.get_or_create(
        user=user, tenant=locked.tenant, defaults={"role": locked.role}
    )
    locked.accepted_at = timezone.now()
    locked.save(update_fields=["accepted_at"])
    audit_append(
        action="member.join",
        resource_type="membership",
        resource_id=membership.pk,
        changes={"user": user.pk, "role": membership.role, "invitation": locked.pk},
        personal={"email": user.email},
        actor=actor_for_user(user),
        schema_name=locked.tenant.schema_name,
    )
    return membership


def invitation_closed_reason(invitation: Invitation) -> str:
    """Why an invitation's link no longer works, and what to do about it."""
    if invitation.accepted_at is not None:
        return "This invitation was already accepted. Sign in with your email and password."
    if invitation.revoked_at is not None:
        return "This invitation was withdrawn or replaced by a newer one. Ask an admin to invite you again."
    return "This invitation has expired. Ask an admin of the workspace to invite you again."
