"""/settings/: API tokens (own, or everyone's with tokens:manage; the secret shown once; revoke), members and
invitations for admins, a link to the webhooks page for admins, a placeholder for single sign-on; viewers see
no settings."""

import re
from datetime import date, timedelta

import pytest
from django.core import mail

from apps.accounts.models import ApiToken, Invitation, Membership, User


def _token_names(html: str) -> list[str]:
    table = re.search(r'<table class="[^"]*tokens-table">.*?</table>', html, flags=re.S)
    return re.findall(r'<tr>\s*<td data-label="Name">([^<]+)</td>', table.group(0)) if table else []


def test_viewers_get_no_settings(portal):
    client = portal("acme", "viewer")

    assert client.get("/settings/").status_code == 403
    assert client.post("/settings/tokens/", {"name": "mine"}).status_code == 403
    assert not ApiToken.objects.filter(name="mine").exists()


def test_an_analyst_sees_their_own_tokens_and_no_members(portal, world):
    html = portal("acme", "analyst").get("/settings/").content.decode()

    assert _token_names(html) == ["analyst token"]
    assert 'id="members"' not in html and "Invite a member" not in html
    assert 'id="sso"' in html and "Members sign in with their email and password." in html
    assert 'href="/settings/sso/"' not in html  # single sign-on is for admins (members:manage)
    assert 'href="/settings/webhooks/"' not in html  # webhooks are for admins (webhooks:manage)


def test_an_admin_sees_every_token_of_the_tenant_and_the_members(portal, world):
    html = portal("acme", "admin").get("/settings/").content.decode()

    assert sorted(_token_names(html)) == sorted(
        f"{r} token" for r in ("admin", "trader", "analyst", "viewer")
    )
    emails = [
        e.strip() for e in re.findall(r'<tr id="member-\d+"[^>]*>\s*<td data-label="Member">([^<]+)', html)
    ]
    assert emails == sorted(world.acme.members[r].email for r in ("admin", "trader", "analyst", "viewer"))
    assert "globex" not in html


def test_creating_a_token_shows_its_secret_once(portal, world):
    client = portal("acme", "analyst")
    expiry = date.today() + timedelta(days=30)

    response = client.post(
        "/settings/tokens/", {"name": "notebook", "scopes": ["curves:read"], "expires_on": expiry.isoformat()}
    )

    html = response.content.decode()
    found = re.search(r'<code id="new-token">(aurum_[^<]+)</code>', html)
    assert found is not None
    secret = found.group(1)
    token = ApiToken.objects.get(name="notebook")
    assert response.status_code == 201 and response["Cache-Control"] == "private, no-store"
    assert (token.scopes, token.parent, token.membership_id) == (
        ["curves:read"],
        None,
        world.acme.members["analyst"].membership_id,
    )
    assert token.expires_at is not None and token.expires_at.date() == expiry + timedelta(days=1)
    assert secret.startswith(f"aurum_{token.prefix}_")
    assert secret not in client.get("/settings/").content.decode()
    api = client.get("/api/v2/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.status_code == 200 and api.json()["permissions"] == ["curves:read"]


def test_token_errors_are_shown_next_to_their_fields(portal):
    client = portal("acme", "analyst")

    blank = client.post("/settings/tokens/", {"name": ""}).content.decode()
    past = client.post("/settings/tokens/", {"name": "old", "expires_on": "2020-01-01"})
    beyond = portal("acme", "admin").post(
        "/settings/tokens/",
        {"name": "for viewer", "scopes": ["curves:write"], "member": str(_viewer_id(client))},
    )

    assert re.search(r'<p class="error" id="id_name_error">This field is required.</p>', blank)
    assert 'aria-invalid="true"' in blank
    assert past.status_code == 400
    assert (
        '<p class="error" id="id_expires_on_error">The expiry must be in the future.</p>'
        in past.content.decode()
    )
    assert beyond.status_code == 400
    assert "The role &#x27;viewer&#x27; cannot grant: curves:write." in beyond.content.decode()
    assert not ApiToken.objects.filter(name__in=["old", "for viewer"]).exists()


def _viewer_id(client) -> int:
    return Membership.objects.get(user__email="viewer@acme.example").pk


def test_an_analyst_cannot_offer_scopes_beyond_their_role(portal):
    html = portal("acme", "analyst").get("/settings/").content.decode()

    offered = re.findall(r'name="scopes" value="([^"]+)"', html)
    assert offered == ["curves:read", "scenarios:read", "scenarios:run", "tokens:own"]
    assert 'name="member"' not in html  # issuing tokens to others needs tokens:manage


def test_revoking_a_token_revokes_it_and_says_so(portal, world):
    client = portal("acme", "analyst")

    response = client.post(f"/settings/tokens/{world.acme.members['analyst'].token_id}/revoke/", follow=True)

    assert ApiToken.objects.get(pk=world.acme.members["analyst"].token_id).revoked_at is not None
    assert "Token “analyst token” is revoked" in response.content.decode()


def test_another_members_token_is_not_found_for_an_analyst(portal, world):
    response = portal("acme", "analyst").post(
        f"/settings/tokens/{world.acme.members['trader'].token_id}/revoke/"
    )
    other_tenant = portal("acme", "admin").post(
        f"/settings/tokens/{world.globex.members['viewer'].token_id}/revoke/"
    )

    assert response.status_code == other_tenant.status_code == 404
    assert (
        ApiToken.objects.filter(
            pk__in=[world.acme.members["trader"].token_id, world.globex.members["viewer"].token_id],
            revoked_at__isnull=False,
        ).count()
        == 0
    )


def test_an_admin_invites_by_email_and_the_invitation_is_pending(portal, django_capture_on_commit_callbacks):
    client = portal("acme", "admin")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/settings/members/invite/", {"email": "dana@example.com", "role": "trader"})

    (message,) = mail.outbox
    link = re.search(r"http://acme\.localhost/invitations/([^/\s]+)/", str(message.body))
    assert response.status_code == 302 and response["Location"] == "/settings/#members"
    assert link is not None
    html = client.get("/settings/").content.decode()
    assert "Invitation sent to dana@example.com as trader." in html
    assert "<strong>dana@example.com</strong> as trader" in html


def test_invite_errors_are_shown_next_to_their_fields(portal, world):
    response = portal("acme", "admin").post(
        "/settings/members/invite/", {"email": world.acme.members["viewer"].email, "role": "viewer"}
    )

    assert response.status_code == 400
    assert (
        '<p class="error" id="id_email_error">viewer@acme.example is already a member of Acme Energy.</p>'
        in response.content.decode()
    )
    assert not mail.outbox and not Invitation.objects.exists()


@pytest.mark.parametrize("role", ["analyst", "trader"])
def test_only_admins_manage_members(portal, world, role):
    client = portal("acme", role)
    viewer = world.acme.members["viewer"].membership_id

    assert (
        client.post("/settings/members/invite/", {"email": "x@example.com", "role": "viewer"}).status_code
        == 403
    )
    assert client.post(f"/settings/members/{viewer}/role/", {"role": "admin"}).status_code == 403
    assert client.post(f"/settings/members/{viewer}/remove/").status_code == 403
    assert Membership.objects.get(pk=viewer).role == "viewer"


def test_an_admin_changes_a_role_and_removes_a_member(portal, world):
    client = portal("acme", "admin")
    viewer, analyst = (world.acme.members[r].membership_id for r in ("viewer", "analyst"))

    changed = client.post(f"/settings/members/{viewer}/role/", {"role": "analyst"}, follow=True)
    removed = client.post(f"/settings/members/{analyst}/remove/", follow=True)

    assert Membership.objects.get(pk=viewer).role == "analyst"
    assert "viewer@acme.example is now analyst." in changed.content.decode()
    assert not Membership.objects.filter(pk=analyst).exists()
    assert "analyst@acme.example no longer has access to Acme Energy" in removed.content.decode()


def test_the_last_admin_is_told_why_they_cannot_step_down_beside_their_role(portal, world):
    client = portal("acme", "admin")
    admin = world.acme.members["admin"].membership_id

    demote = client.post(f"/settings/members/{admin}/role/", {"role": "viewer"})
    leave = client.post(f"/settings/members/{admin}/remove/")

    assert demote.status_code == leave.status_code == 409
    html = demote.content.decode()
    assert re.search(
        rf'<p class="error" id="member-error-{admin}" role="alert">You are the last admin of Acme Energy: '
        r"make another member admin first.</p>",
        html,
    )
    assert f'aria-describedby="member-error-{admin}"' in html
    assert Membership.objects.get(pk=admin).role == "admin"


def test_another_tenants_member_or_invitation_is_not_found(portal, world):
    client = portal("acme", "admin")
    globex_viewer = world.globex.members["viewer"].membership_id
    foreign = Invitation.objects.create(
        tenant_id=world.globex.pk, email="x@example.com", role="viewer", expires_at="2099-01-01T00:00Z"
    )

    assert client.post(f"/settings/members/{globex_viewer}/role/", {"role": "admin"}).status_code == 404
    assert client.post(f"/settings/members/{globex_viewer}/remove/").status_code == 404
    assert client.post(f"/settings/invitations/{foreign.pk}/revoke/").status_code == 404
    assert Invitation.objects.get(pk=foreign.pk).revoked_at is None


def test_the_invited_member_accepts_and_is_signed_in(world, client, django_capture_on_commit_callbacks):
    from apps.accounts.members import invitation_create_as, invitation_link_token
    from apps.accounts.selectors import membership_get

    admin = membership_get(tenant=_tenant(world), membership_id=world.acme.members["admin"].membership_id)
    invitation = invitation_create_as(
        credential=_Credential(admin), email="erin@example.com", role="analyst", accept_url_base="/"
    )
    url = f"/invitations/{invitation_link_token(invitation)}/"

    page = client.get(url, HTTP_HOST=world.acme.host).content.decode()
    mismatch = client.post(
        url,
        {"password": "a long passphrase", "password_again": "other passphrase"},
        HTTP_HOST=world.acme.host,
    )
    accepted = client.post(
        url,
        {"full_name": "Erin", "password": "a long passphrase", "password_again": "a long passphrase"},
        HTTP_HOST=world.acme.host,
    )
    again = client.get(url, HTTP_HOST=world.acme.host)

    assert "Join Acme Energy" in page and '<label for="id_password">' in page
    assert mismatch.status_code == 400 and "The two passwords differ" in mismatch.content.decode()
    assert (accepted.status_code, accepted["Location"]) == (302, "/")
    assert Membership.objects.get(user__email="erin@example.com", tenant_id=world.acme.pk).role == "analyst"
    assert client.get("/", HTTP_HOST=world.acme.host).status_code == 200  # signed in
    assert again.status_code == 410 and "already accepted" in again.content.decode()
    assert client.get(url, HTTP_HOST=world.globex.host).status_code == 404
    assert User.objects.get(email="erin@example.com").full_name == "Erin"


def test_a_forged_link_is_not_found(world, client):
    assert client.get("/invitations/MQ:forged:sig/", HTTP_HOST=world.acme.host).status_code == 404


def _tenant(world):
    from tenants.models import Tenant

    return Tenant.objects.get(pk=world.acme.pk)


class _Credential:
    def __init__(self, membership: Membership) -> None:
        self.membership, self.token, self.permissions = membership, None, membership.permissions


def test_the_settings_page_pins_its_queries(portal, world, django_assert_num_queries):
    from apps.accounts.services import api_token_create

    client = portal("acme", "admin")
    client.get("/settings/")
    for n in range(5):  # more tokens, same queries
        api_token_create(
            membership=Membership.objects.get(pk=world.acme.members["viewer"].membership_id), name=f"t{n}"
        )

    # the tenant's search path (the token setup left the connection on public: no SET to public, decision
    # 0057), tenant, session, user, membership, members, tokens (with their owners), open invitations, the
    # tenant's single sign-on
    with django_assert_num_queries(9):
        response = client.get("/settings/")

    assert response.status_code == 200


def test_confirming_an_existing_account_is_throttled_like_a_sign_in(world, client, settings):
    import uuid

    from apps.accounts.members import invitation_create_as, invitation_link_token
    from apps.accounts.selectors import membership_get
    from apps.accounts.services import membership_create, user_create
    from tenants.models import Tenant

    settings.AURUM_SIGNIN_FAILURES_PER_EMAIL = 2
    email = f"elsewhere-{uuid.uuid4().hex[:8]}@example.com"
    user = user_create(email=email, password="the real passphrase")
    membership_create(user=user, tenant=Tenant.objects.get(pk=world.globex.pk), role="viewer")
    admin = membership_get(tenant=_tenant(world), membership_id=world.acme.members["admin"].membership_id)
    invitation = invitation_create_as(
        credential=_Credential(admin), email=email, role="viewer", accept_url_base="/"
    )
    url = f"/invitations/{invitation_link_token(invitation)}/"

    page = client.get(url, HTTP_HOST=world.acme.host).content.decode()
    wrong = [client.post(url, {"password": "guess"}, HTTP_HOST=world.acme.host) for _ in range(2)]
    locked = client.post(url, {"password": "the real passphrase"}, HTTP_HOST=world.acme.host)

    assert "You already have an Aurum account" in page and 'name="password_again"' not in page
    assert [r.status_code for r in wrong] == [400, 400]
    assert "already has an Aurum account: enter its password" in wrong[0].content.decode()
    assert locked.status_code == 429 and "Too many wrong passwords" in locked.content.decode()
    assert not Membership.objects.filter(user=user, tenant_id=world.acme.pk).exists()
