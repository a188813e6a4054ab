"""Members as services (apps.accounts.members): invite by email with a signed link that works once and
expires, accept it, change a role, remove; members:manage from the credential; a tenant keeps an admin."""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core import mail
from django.utils import timezone

from apps.accounts.members import (
    invitation_accept,
    invitation_create_as,
    invitation_link_token,
    invitation_revoke_as,
    membership_remove_as,
    membership_role_change_as,
)
from apps.accounts.models import ApiToken, Invitation, Membership, User
from apps.accounts.selectors import invitation_for_link
from aurum.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError

LINK_BASE = "http://acme.localhost/invitations/"


def _as(world, role: str, tenant: str = "acme", scopes: frozenset[str] | None = None) -> SimpleNamespace:
    membership = Membership.objects.select_related("tenant", "user").get(
        pk=getattr(world, tenant).members[role].membership_id
    )
    permissions = membership.permissions if scopes is None else membership.permissions & scopes
    return SimpleNamespace(membership=membership, token=None, permissions=permissions)


def _member(world, role: str, tenant: str = "acme") -> Membership:
    return Membership.objects.get(pk=getattr(world, tenant).members[role].membership_id)


def _invite(world, email: str = "newcomer@example.com", role: str = "analyst", **kwargs) -> Invitation:
    return invitation_create_as(
        credential=_as(world, "admin"), email=email, role=role, accept_url_base=LINK_BASE, **kwargs
    )


def test_an_invitation_emails_a_signed_link_that_names_it(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = _invite(world, " Newcomer@Example.com ")

    (message,) = mail.outbox
    # The link's token is signed with a timestamp (to the second), so it is read from the mail, not re-signed.
    mailed = re.search(re.escape(LINK_BASE) + r"(\S+)/\s", str(message.body))
    assert mailed is not None, message.body
    assert message.to == ["newcomer@example.com"]
    assert message.subject == "Join Acme Energy on Aurum"
    assert "admin@acme.example invited you to join Acme Energy on Aurum as analyst." in message.body
    assert invitation_for_link(tenant=invitation.tenant, token=mailed.group(1)) == invitation
    assert invitation.expires_at - timezone.now() > timedelta(days=6, hours=23)


def test_a_link_is_refused_when_mangled_or_used_on_another_tenants_host(world):
    from tenants.models import Tenant

    invitation = _invite(world)
    token = invitation_link_token(invitation)

    with pytest.raises(NotFoundError):
        invitation_for_link(tenant=invitation.tenant, token=token[:-2] + "xx")
    with pytest.raises(NotFoundError):
        invitation_for_link(tenant=Tenant.objects.get(schema_name="globex"), token=token)


def test_accepting_creates_the_user_and_the_membership_once(world):
    invitation = _invite(world, role="trader")

    membership = invitation_accept(
        invitation=invitation, password="a long new passphrase", full_name="Nia New"
    )

    user = User.objects.get(email="newcomer@example.com")
    assert (membership.user, membership.role, membership.tenant_id) == (user, "trader", world.acme.pk)
    assert user.check_password("a long new passphrase") and user.full_name == "Nia New"
    with pytest.raises(ConflictError, match="already accepted"):
        invitation_accept(invitation=invitation, password="a long new passphrase")
    assert Membership.objects.filter(user=user).count() == 1


def test_a_weak_password_is_refused_on_the_password_field(world):
    invitation = _invite(world)

    with pytest.raises(InvalidInputError) as refused:
        invitation_accept(invitation=invitation, password="short")

    assert {issue.field for issue in refused.value.issues} == {"password"}
    assert "at least 10 characters" in refused.value.issues[0].message
    assert not User.objects.filter(email="newcomer@example.com").exists()
    assert Invitation.objects.get(pk=invitation.pk).accepted_at is None


def test_a_user_of_another_tenant_joins_with_their_own_password(world):
    invitation = _invite(world, email=world.globex.members["analyst"].email, role="viewer")

    with pytest.raises(InvalidInputError, match="already has an Aurum account"):
        invitation_accept(invitation=invitation, password="not their password")
    membership = invitation_accept(invitation=invitation, password=world.globex.members["analyst"].password)

    assert (membership.role, membership.tenant_id) == ("viewer", world.acme.pk)
    assert User.objects.get(email=world.globex.members["analyst"].email).check_password(
        world.globex.members["analyst"].password
    )


def test_expired_withdrawn_and_replaced_invitations_do_not_open(world):
    expired = _invite(world, email="late@example.com")
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    first = _invite(world, email="twice@example.com")
    second = _invite(world, email="twice@example.com")
    withdrawn = invitation_revoke_as(credential=_as(world, "admin"), invitation_id=_invite(world).pk)

    with pytest.raises(ConflictError, match="expired"):
        invitation_accept(invitation=expired, password="a long new passphrase")
    with pytest.raises(ConflictError, match="withdrawn or replaced"):
        invitation_accept(invitation=first, password="a long new passphrase")
    with pytest.raises(ConflictError, match="withdrawn or replaced"):
        invitation_accept(invitation=withdrawn, password="a long new passphrase")
    assert invitation_accept(invitation=second, password="a long new passphrase").role == "analyst"


def test_inviting_checks_the_address_the_role_and_existing_members(world):
    with pytest.raises(InvalidInputError) as bad:
        _invite(world, email="not-an-address", role="boss")
    with pytest.raises(InvalidInputError, match="already a member of Acme Energy") as member:
        _invite(world, email=world.acme.members["viewer"].email)

    assert [(i.field, i.message) for i in bad.value.issues] == [
        ("email", "Enter an email address, e.g. name@example.com."),
        ("role", "Unknown role 'boss'. Use one of viewer, analyst, trader, admin."),
    ]
    assert member.value.issues[0].field == "email"
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "analyst", "trader"])
def test_only_members_manage_holders_manage_members(world, role):
    credential = _as(world, role)
    target = world.acme.members["viewer"].membership_id

    with pytest.raises(ForbiddenError):
        invitation_create_as(
            credential=credential, email="x@example.com", role="viewer", accept_url_base=LINK_BASE
        )
    with pytest.raises(ForbiddenError):
        membership_role_change_as(credential=credential, membership_id=target, role="admin")
    with pytest.raises(ForbiddenError):
        membership_remove_as(credential=credential, membership_id=target)
    assert _member(world, "viewer").role == "viewer"


def test_an_admins_token_without_members_manage_cannot_manage_members(world):
    narrowed = _as(world, "admin", scopes=frozenset({"curves:read", "tokens:manage"}))

    with pytest.raises(ForbiddenError, match="members:manage"):
        membership_role_change_as(
            credential=narrowed, membership_id=world.acme.members["viewer"].membership_id, role="admin"
        )


def test_an_admin_changes_a_role_and_the_members_tokens_follow_it(world):
    viewer = world.acme.members["viewer"]

    changed = membership_role_change_as(
        credential=_as(world, "admin"), membership_id=viewer.membership_id, role="trader"
    )

    assert changed.role == "trader"
    assert "curves:write" in Membership.objects.get(pk=viewer.membership_id).permissions
    demoted = membership_role_change_as(
        credential=_as(world, "admin"),
        membership_id=world.acme.members["trader"].membership_id,
        role="viewer",
    )
    token = ApiToken.objects.get(pk=world.acme.members["trader"].token_id)
    assert demoted.role == "viewer" and token.permissions == {"curves:read", "scenarios:read"}


def test_the_last_admin_can_neither_step_down_nor_leave(world):
    admin = world.acme.members["admin"]

    with pytest.raises(ConflictError, match="You are the last admin of Acme Energy"):
        membership_role_change_as(
            credential=_as(world, "admin"), membership_id=admin.membership_id, role="viewer"
        )
    with pytest.raises(ConflictError, match="last admin"):
        membership_remove_as(credential=_as(world, "admin"), membership_id=admin.membership_id)
    assert _member(world, "admin").role == "admin"


def test_with_a_second_admin_the_first_may_step_down(world):
    membership_role_change_as(
        credential=_as(world, "admin"), membership_id=world.acme.members["trader"].membership_id, role="admin"
    )

    stepped_down = membership_role_change_as(
        credential=_as(world, "admin"),
        membership_id=world.acme.members["admin"].membership_id,
        role="analyst",
    )

    assert stepped_down.role == "analyst"


def test_removing_a_member_deletes_their_tokens(world):
    analyst = world.acme.members["analyst"]

    membership_remove_as(credential=_as(world, "admin"), membership_id=analyst.membership_id)

    assert not Membership.objects.filter(pk=analyst.membership_id).exists()
    assert not ApiToken.objects.filter(pk=analyst.token_id).exists()


def test_another_tenants_member_is_not_found(world):
    globex_viewer = world.globex.members["viewer"].membership_id

    with pytest.raises(NotFoundError):
        membership_role_change_as(credential=_as(world, "admin"), membership_id=globex_viewer, role="admin")
    with pytest.raises(NotFoundError):
        membership_remove_as(credential=_as(world, "admin"), membership_id=globex_viewer)
    assert Membership.objects.get(pk=globex_viewer).role == "viewer"
