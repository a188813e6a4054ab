"""/api/v2/members and /api/v2/invitations over HTTP: each action, its audit entry and its mail;
members:manage from the credential (token scopes, not the role alone); the last admin stays; accepting needs
only the link's token, and an anonymous caller's failures are throttled like sign-ins."""

import json
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from apps.accounts.members import invitation_link_token
from apps.accounts.models import ApiToken, Invitation, Membership, User
from apps.accounts.services import api_token_create
from tests.support.audit import ledger

NEW = "newcomer@example.com"
PASSWORD = "a long new passphrase"


def _admin(world) -> dict[str, str]:
    return world.acme.auth("admin")


def _problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith(f"/{slug}"), body
    return body


def _entries(action: str) -> list[tuple[str, str, dict]]:
    """Each entry's resource and what it records: its hashed ``changes`` (ids, never an email) with its
    ``personal`` data beside the hash (the email; decision 0033)."""
    return [
        (e.resource_type, e.resource_id, {**json.loads(e.changes), **e.personal_data})
        for e in ledger("acme")
        if e.action == action
    ]


def _invite(api, world, django_capture_on_commit_callbacks, email: str = NEW, role: str = "analyst"):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v2/invitations", {"email": email, "role": role}, format="json", **_admin(world)
        )
    assert response.status_code == 201, response.content
    (message,) = [m for m in mail.outbox if m.to == [email.strip().lower()]]
    found = re.search(r"http://acme\.localhost/invitations/([^/\s]+)/", str(message.body))
    assert found is not None, message.body
    token = found.group(1)
    return response.json()["data"], token


def _accept(api, body: dict, ip: str = "198.51.100.1", **extra):
    return api.post(
        "/api/v2/invitations/accept", body, format="json", HTTP_HOST="acme.localhost", REMOTE_ADDR=ip, **extra
    )


# --- members ------------------------------------------------------------------------------------------------


def test_the_member_list_names_role_email_name_and_join_date(world, api):
    analyst = Membership.objects.select_related("user").get(pk=world.acme.members["analyst"].membership_id)

    rows = api.get("/api/v2/members", **_admin(world)).json()["data"]

    assert [(m["email"], m["role"]) for m in rows] == [
        ("admin@acme.example", "admin"),
        ("analyst@acme.example", "analyst"),
        ("trader@acme.example", "trader"),
        ("viewer@acme.example", "viewer"),
    ]
    assert rows[1] == {
        "id": analyst.pk,
        "email": "analyst@acme.example",
        "full_name": "",
        "role": "analyst",
        "joined": analyst.created.isoformat().replace("+00:00", "Z"),
    }


def test_one_member_is_read_by_id_and_another_tenants_is_404(world, api):
    own = api.get(f"/api/v2/members/{world.acme.members['trader'].membership_id}", **_admin(world))
    other = api.get(f"/api/v2/members/{world.globex.members['trader'].membership_id}", **_admin(world))

    assert own.status_code == 200
    assert (own.json()["data"]["email"], own.json()["data"]["role"]) == ("trader@acme.example", "trader")
    _problem(other, 404, "not-found")


def test_changing_a_role_answers_the_member_and_records_who_changed_what(world, api):
    member_id = world.acme.members["analyst"].membership_id

    response = api.patch(f"/api/v2/members/{member_id}", {"role": "trader"}, format="json", **_admin(world))

    assert response.status_code == 200, response.content
    assert response.json()["data"]["role"] == "trader"
    assert Membership.objects.get(pk=member_id).role == "trader"
    assert _entries("member.role_change") == [
        (
            "membership",
            str(member_id),
            {
                "email": "analyst@acme.example",
                "from": "analyst",
                "to": "trader",
                "user": Membership.objects.get(pk=member_id).user_id,
            },
        )
    ]
    (entry,) = [e for e in ledger("acme") if e.action == "member.role_change"]
    assert (entry.actor_kind, entry.actor_display) == ("token", "admin token (admin@acme.example)")


def test_an_unknown_role_is_a_400_and_changes_nothing(world, api):
    member_id = world.acme.members["analyst"].membership_id

    response = api.patch(f"/api/v2/members/{member_id}", {"role": "boss"}, format="json", **_admin(world))

    body = _problem(response, 400, "invalid")
    assert [e["field"] for e in body["errors"]] == ["role"]
    assert Membership.objects.get(pk=member_id).role == "analyst"
    assert _entries("member.role_change") == []


def test_the_last_admin_can_neither_demote_nor_remove_themself(world, api):
    admin_id = world.acme.members["admin"].membership_id

    demoted = api.patch(f"/api/v2/members/{admin_id}", {"role": "viewer"}, format="json", **_admin(world))
    removed = api.delete(f"/api/v2/members/{admin_id}", **_admin(world))

    assert "You are the last admin of Acme Energy" in _problem(demoted, 409, "last-admin")["detail"]
    _problem(removed, 409, "last-admin")
    assert Membership.objects.get(pk=admin_id).role == "admin"
    assert _entries("member.role_change") == _entries("member.remove") == []


def test_with_a_second_admin_the_first_may_step_down(world, api):
    trader_id = world.acme.members["trader"].membership_id
    admin_id = world.acme.members["admin"].membership_id
    api.patch(f"/api/v2/members/{trader_id}", {"role": "admin"}, format="json", **_admin(world))

    response = api.patch(f"/api/v2/members/{admin_id}", {"role": "analyst"}, format="json", **_admin(world))

    assert response.status_code == 200
    assert Membership.objects.get(pk=admin_id).role == "analyst"


def test_removing_a_member_takes_their_tokens_and_is_recorded(world, api):
    viewer = world.acme.members["viewer"]

    response = api.delete(f"/api/v2/members/{viewer.membership_id}", **_admin(world))

    assert response.status_code == 204
    assert not Membership.objects.filter(pk=viewer.membership_id).exists()
    assert not ApiToken.objects.filter(pk=viewer.token_id).exists()
    assert User.objects.filter(email=viewer.email).exists()  # the person keeps their other workspaces
    assert api.get("/api/v2/me", **world.acme.auth("viewer")).status_code == 401
    assert _entries("member.remove") == [
        (
            "membership",
            str(viewer.membership_id),
            {
                "email": "viewer@acme.example",
                "role": "viewer",
                "user": User.objects.get(email=viewer.email).pk,
            },
        )
    ]


@pytest.mark.parametrize("role", ["viewer", "analyst", "trader"])
def test_members_other_than_admins_manage_nobody(world, api, role):
    target = world.acme.members["viewer"].membership_id
    auth = world.acme.auth(role)

    answers = [
        api.get("/api/v2/members", **auth),
        api.get(f"/api/v2/members/{target}", **auth),
        api.patch(f"/api/v2/members/{target}", {"role": "admin"}, format="json", **auth),
        api.delete(f"/api/v2/members/{target}", **auth),
        api.get("/api/v2/invitations", **auth),
        api.post("/api/v2/invitations", {"email": NEW, "role": "admin"}, format="json", **auth),
    ]

    assert [a.status_code for a in answers] == [403] * 6
    assert Membership.objects.get(pk=target).role == "viewer"
    assert not Invitation.objects.exists()


def test_an_admins_token_without_the_members_scope_manages_nobody(world, api):
    admin = Membership.objects.get(pk=world.acme.members["admin"].membership_id)
    _, raw = api_token_create(membership=admin, name="no members", scopes=["admin:read", "tokens:manage"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    target = world.acme.members["viewer"].membership_id

    listed = api.get("/api/v2/members", **auth)
    changed = api.patch(f"/api/v2/members/{target}", {"role": "admin"}, format="json", **auth)
    invited = api.post("/api/v2/invitations", {"email": NEW, "role": "viewer"}, format="json", **auth)

    assert [listed.status_code, changed.status_code, invited.status_code] == [403, 403, 403]
    assert Membership.objects.get(pk=target).role == "viewer"
    assert not Invitation.objects.exists()


# --- invitations --------------------------------------------------------------------------------------------


def test_inviting_mails_the_link_and_answers_the_invitation_without_it(
    world, api, django_capture_on_commit_callbacks
):
    data, token = _invite(api, world, django_capture_on_commit_callbacks, email=" Newcomer@Example.com ")

    invitation = Invitation.objects.get(email=NEW)
    assert data == {
        "id": invitation.pk,
        "email": NEW,
        "role": "analyst",
        "status": "open",
        "invited_by": "admin@acme.example",
        "created": invitation.created.isoformat().replace("+00:00", "Z"),
        "expires_at": invitation.expires_at.isoformat().replace("+00:00", "Z"),
        "accepted_at": None,
    }
    assert token not in json.dumps(data)
    (message,) = mail.outbox
    assert message.subject == "Join Acme Energy on Aurum"
    assert "admin@acme.example invited you to join Acme Energy on Aurum as analyst." in message.body
    assert [(t, i) for t, i, _ in _entries("member.invite")] == [("invitation", str(invitation.pk))]
    listed = api.get("/api/v2/invitations", **_admin(world)).json()["data"]
    assert [(i["id"], i["email"]) for i in listed] == [(invitation.pk, NEW)]


def test_a_bad_invitation_is_a_400_that_creates_and_sends_nothing(
    world, api, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        bad = api.post(
            "/api/v2/invitations",
            {"email": "not-an-address", "role": "viewer"},
            format="json",
            **_admin(world),
        )
        member = api.post(
            "/api/v2/invitations",
            {"email": "viewer@acme.example", "role": "viewer"},
            format="json",
            **_admin(world),
        )
        no_role = api.post("/api/v2/invitations", {"email": NEW}, format="json", **_admin(world))

    assert _problem(bad, 400, "invalid")["errors"][0]["field"] == "email"
    assert "already a member of Acme Energy" in _problem(member, 400, "invalid")["detail"]
    assert [e["field"] for e in _problem(no_role, 400, "invalid")["errors"]] == ["role"]
    assert not Invitation.objects.exists()
    assert mail.outbox == []
    assert _entries("member.invite") == []


def test_a_withdrawn_invitation_leaves_the_list_and_its_link_stops_working(
    world, api, django_capture_on_commit_callbacks
):
    data, token = _invite(api, world, django_capture_on_commit_callbacks)

    withdrawn = api.delete(f"/api/v2/invitations/{data['id']}", **_admin(world))
    accepted = _accept(api, {"token": token, "password": PASSWORD})

    assert withdrawn.status_code == 204
    assert api.get("/api/v2/invitations", **_admin(world)).json()["data"] == []
    assert "withdrawn or replaced" in _problem(accepted, 409, "invitation-closed")["detail"]
    assert not User.objects.filter(email=NEW).exists()
    assert _entries("member.invite_revoke") == [("invitation", str(data["id"]), {"email": NEW})]


def test_another_tenants_invitation_cannot_be_withdrawn(world, api):
    theirs = Invitation.objects.create(
        tenant_id=world.globex.pk, email=NEW, role="viewer", expires_at=timezone.now() + timedelta(days=1)
    )

    response = api.delete(f"/api/v2/invitations/{theirs.pk}", **_admin(world))

    _problem(response, 404, "not-found")
    assert Invitation.objects.get(pk=theirs.pk).revoked_at is None


# --- accepting ----------------------------------------------------------------------------------------------


def test_a_new_user_accepts_without_signing_in_and_can_then_sign_in(
    world, api, django_capture_on_commit_callbacks
):
    data, token = _invite(api, world, django_capture_on_commit_callbacks, role="trader")

    response = _accept(api, {"token": token, "password": PASSWORD, "full_name": "Nia New"})

    assert response.status_code == 201, response.content
    membership = Membership.objects.select_related("user").get(user__email=NEW)
    assert response.json()["data"] == {"id": membership.pk, "email": NEW, "tenant": "acme", "role": "trader"}
    assert membership.user.full_name == "Nia New" and membership.user.check_password(PASSWORD)
    assert Invitation.objects.get(pk=data["id"]).accepted_at is not None
    (entry,) = [e for e in ledger("acme") if e.action == "member.join"]
    assert entry.actor_display.startswith(NEW)
    assert json.loads(entry.changes) == {
        "role": "trader",
        "invitation": data["id"],
        "user": membership.user_id,
    }
    assert entry.personal_data == {"email": NEW}
    again = _accept(api, {"token": token, "password": PASSWORD})
    assert "already accepted" in _problem(again, 409, "invitation-closed")["detail"]


def test_a_weak_password_is_refused_and_nothing_is_created(world, api, django_capture_on_commit_callbacks):
    data, token = _invite(api, world, django_capture_on_commit_callbacks)

    response = _accept(api, {"token": token, "password": "short"})

    body = _problem(response, 400, "invalid")
    assert {e["field"] for e in body["errors"]} == {"password"}
    assert not User.objects.filter(email=NEW).exists()
    assert Invitation.objects.get(pk=data["id"]).accepted_at is None


def test_an_existing_user_joins_with_their_own_password(world, api, django_capture_on_commit_callbacks):
    other = world.globex.members["analyst"]
    data, token = _invite(api, world, django_capture_on_commit_callbacks, email=other.email, role="viewer")

    wrong = _accept(api, {"token": token, "password": "not their password"})
    right = _accept(api, {"token": token, "password": other.password})

    assert "already has an Aurum account" in _problem(wrong, 400, "invalid")["detail"]
    assert right.status_code == 201
    assert Membership.objects.get(user__email=other.email, tenant_id=world.acme.pk).role == "viewer"


def test_an_expired_link_is_a_409_and_a_mangled_one_a_404(world, api, django_capture_on_commit_callbacks):
    data, token = _invite(api, world, django_capture_on_commit_callbacks)
    Invitation.objects.filter(pk=data["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))

    expired = _accept(api, {"token": token, "password": PASSWORD})
    mangled = _accept(api, {"token": token[:-2] + "xx", "password": PASSWORD}, ip="198.51.100.2")
    on_globex = api.post(
        "/api/v2/invitations/accept",
        {"token": token, "password": PASSWORD},
        format="json",
        HTTP_HOST="globex.localhost",
        REMOTE_ADDR="198.51.100.3",
    )

    assert "expired" in _problem(expired, 409, "invitation-closed")["detail"]
    _problem(mangled, 404, "not-found")
    _problem(on_globex, 404, "not-found")
    assert not User.objects.filter(email=NEW).exists()


def test_anonymous_failures_lock_the_address_out_even_for_a_good_link(
    world, api, settings, django_capture_on_commit_callbacks
):
    settings.AURUM_SIGNIN_FAILURES_PER_IP = 2
    data, token = _invite(api, world, django_capture_on_commit_callbacks)
    ip = "198.51.100.77"

    guesses = [_accept(api, {"token": f"{n}:forged", "password": PASSWORD}, ip=ip) for n in range(2)]
    locked = _accept(api, {"token": token, "password": PASSWORD}, ip=ip)
    elsewhere = _accept(api, {"token": token, "password": PASSWORD}, ip="198.51.100.78")

    assert [g.status_code for g in guesses] == [404, 404]
    _problem(locked, 429, "rate-limited")
    assert 1 <= int(locked["Retry-After"]) <= 300
    assert elsewhere.status_code == 201


def test_wrong_passwords_of_an_existing_account_lock_its_email_out(
    world, api, settings, django_capture_on_commit_callbacks
):
    settings.AURUM_SIGNIN_FAILURES_PER_EMAIL = 2
    other = world.globex.members["trader"]
    data, token = _invite(api, world, django_capture_on_commit_callbacks, email=other.email)

    wrong = [_accept(api, {"token": token, "password": "guess"}, ip=f"198.51.100.{90 + n}") for n in range(2)]
    right = _accept(api, {"token": token, "password": other.password}, ip="198.51.100.99")

    assert [w.status_code for w in wrong] == [400, 400]
    _problem(right, 429, "rate-limited")
    assert not Membership.objects.filter(user__email=other.email, tenant_id=world.acme.pk).exists()


def test_a_signed_in_member_cannot_take_someone_elses_invitation(
    world, api, django_capture_on_commit_callbacks
):
    data, token = _invite(api, world, django_capture_on_commit_callbacks)

    response = _accept(api, {"token": token, "password": PASSWORD}, **world.acme.auth("viewer"))

    _problem(response, 403, "invitation-other-user")
    assert Invitation.objects.get(pk=data["id"]).accepted_at is None
    assert not User.objects.filter(email=NEW).exists()


def test_a_portal_session_of_a_non_member_is_no_credential_here_so_the_password_is_asked(world, api):
    viewer = world.acme.members["viewer"]
    Membership.objects.filter(pk=viewer.membership_id).delete()
    user = User.objects.get(email=viewer.email)
    invitation = Invitation.objects.create(
        tenant_id=world.acme.pk,
        email=viewer.email,
        role="analyst",
        expires_at=timezone.now() + timedelta(days=1),
    )
    token = invitation_link_token(invitation)
    api.force_login(user)

    without = _accept(api, {"token": token})
    with_password = _accept(api, {"token": token, "password": viewer.password})

    assert "already has an Aurum account" in _problem(without, 400, "invalid")["detail"]
    assert with_password.status_code == 201
    assert Membership.objects.get(user=user, tenant_id=world.acme.pk).role == "analyst"


def test_accepting_on_the_platform_host_without_a_credential_finds_no_invitation(
    world, api, django_capture_on_commit_callbacks
):
    data, token = _invite(api, world, django_capture_on_commit_callbacks)

    response = api.post(
        "/api/v2/invitations/accept",
        {"token": token, "password": PASSWORD},
        format="json",
        REMOTE_ADDR="198.51.100.9",
    )

    assert response.status_code == 404
    assert Invitation.objects.get(pk=data["id"]).accepted_at is None


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_an_id_beyond_any_row_is_a_404(world, api, method):
    response = getattr(api, method)(
        "/api/v2/members/99999999999999999999", {"role": "viewer"}, format="json", **_admin(world)
    )
    withdrawn = api.delete("/api/v2/invitations/99999999999999999999", **_admin(world))

    _problem(response, 404, "not-found")
    _problem(withdrawn, 404, "not-found")
