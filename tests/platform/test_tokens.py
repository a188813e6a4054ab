"""API tokens: hashed at rest, shown once, scoped, expiring, revocable, and their last use recorded."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import ApiToken, Membership
from apps.accounts.services import api_token_create


def test_token_is_stored_hashed_and_shown_once(world, api):
    created = api.post("/api/v2/tokens", {"name": "pricing bot"}, format="json", **world.acme.auth("trader"))

    assert created.status_code == 201
    assert created["Cache-Control"] == "private, no-store"
    raw = created.json()["data"]["token"]
    prefix, secret = raw.removeprefix("aurum_").split("_", 1)
    row = ApiToken.objects.get(pk=created.json()["data"]["id"])
    assert created["Location"] == f"/api/v2/tokens/{row.pk}"
    assert row.prefix == prefix == created.json()["data"]["prefix"]
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in row.key_hash and raw not in str(ApiToken.objects.filter(pk=row.pk).values().get())
    listed = api.get("/api/v2/tokens", **world.acme.auth("trader")).json()["data"]
    assert "token" not in listed[0]
    assert any(t["prefix"] == prefix for t in listed)
    # The new token works on its own.
    assert api.get("/api/v2/me", HTTP_AUTHORIZATION=f"Bearer {raw}").json()["email"] == "trader@acme.example"


def test_default_scopes_are_the_roles_permissions(world, api):
    created = api.post("/api/v2/tokens", {"name": "all"}, format="json", **world.acme.auth("analyst"))

    assert created.json()["data"]["scopes"] == [
        "curves:read",
        "scenarios:read",
        "scenarios:run",
        "tokens:own",
    ]


def test_token_scopes_narrow_what_it_may_do(world, api):
    membership = Membership.objects.get(pk=world.acme.members["admin"].membership_id)
    _, raw = api_token_create(membership=membership, name="read only", scopes=["curves:read"])

    me = api.get("/api/v2/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    members = api.get("/api/v2/members", HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert me.json()["permissions"] == ["curves:read"]
    assert members.status_code == 403
    assert api.get("/api/v2/members", **world.acme.auth("admin")).status_code == 200


def test_scopes_beyond_the_role_are_refused(world, api):
    response = api.post(
        "/api/v2/tokens",
        {"name": "greedy", "scopes": ["curves:read", "admin:read"]},
        format="json",
        **world.acme.auth("analyst"),
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "scopes"
    assert "admin:read" in response.json()["errors"][0]["message"]


def test_unknown_scope_is_refused(world, api):
    response = api.post(
        "/api/v2/tokens", {"name": "x", "scopes": ["root"]}, format="json", **world.acme.auth()
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "scopes.0"


def test_a_token_cannot_mint_a_broader_token(world, api):
    membership = Membership.objects.get(pk=world.acme.members["admin"].membership_id)
    _, narrow = api_token_create(membership=membership, name="narrow", scopes=["curves:read", "tokens:own"])

    response = api.post(
        "/api/v2/tokens",
        {"name": "wider", "scopes": ["admin:read"]},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {narrow}",
    )
    default = api.post(
        "/api/v2/tokens", {"name": "same"}, format="json", HTTP_AUTHORIZATION=f"Bearer {narrow}"
    )

    assert response.status_code == 400
    assert default.status_code == 201
    assert default.json()["data"]["scopes"] == ["curves:read", "tokens:own"]


def test_expired_token_is_401(world, api):
    membership = Membership.objects.get(pk=world.acme.members["analyst"].membership_id)
    token, raw = api_token_create(
        membership=membership, name="short", expires_at=timezone.now() + timedelta(hours=1)
    )
    assert api.get("/api/v2/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200

    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api.get("/api/v2/me", HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_expiry_in_the_past_is_refused_at_creation(world, api):
    past = (timezone.now() - timedelta(days=1)).isoformat()
    response = api.post(
        "/api/v2/tokens", {"name": "old", "expires_at": past}, format="json", **world.acme.auth()
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "expires_at"


def test_revoked_token_is_401_and_revoking_twice_is_harmless(world, api):
    created = api.post(
        "/api/v2/tokens", {"name": "temp"}, format="json", **world.acme.auth("analyst")
    ).json()["data"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {created['token']}"}

    first = api.delete(f"/api/v2/tokens/{created['id']}", **world.acme.auth("analyst"))
    second = api.delete(f"/api/v2/tokens/{created['id']}", **world.acme.auth("analyst"))
    refused = api.get("/api/v2/me", **auth)

    assert first.status_code == second.status_code == 204
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
    assert ApiToken.objects.get(pk=created["id"]).revoked_at is not None


@pytest.mark.parametrize(
    "header",
    ["Bearer nonsense", "Bearer aurum_000000000000_wrongsecret", "Bearer aurum_short_x", "Bearer "],
)
def test_malformed_or_unknown_tokens_are_401(world, api, header):
    response = api.get("/api/v2/me", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_right_prefix_wrong_secret_is_401(world, api):
    prefix = world.acme.members["analyst"].token.split("_")[1]

    response = api.get("/api/v2/me", HTTP_AUTHORIZATION=f"Bearer aurum_{prefix}_not-the-secret")

    assert response.status_code == 401


def test_last_used_time_is_recorded(world, api):
    membership = Membership.objects.get(pk=world.acme.members["viewer"].membership_id)
    token, raw = api_token_create(membership=membership, name="fresh")
    assert token.last_used_at is None

    api.get("/api/v2/me", HTTP_AUTHORIZATION=f"Bearer {raw}")

    token.refresh_from_db()
    assert token.last_used_at is not None
    assert timezone.now() - token.last_used_at < timedelta(seconds=30)


def test_members_see_their_own_tokens_and_admins_see_all_of_the_tenant(world, api):
    analyst = {t["owner"] for t in api.get("/api/v2/tokens", **world.acme.auth("analyst")).json()["data"]}
    admin = {t["owner"] for t in api.get("/api/v2/tokens", **world.acme.auth("admin")).json()["data"]}

    assert analyst == {"analyst@acme.example"}
    assert admin == {f"{role}@acme.example" for role in ("admin", "trader", "analyst", "viewer")}


def test_a_member_cannot_revoke_a_colleagues_token(world, api):
    trader_token = world.acme.members["trader"].token_id

    response = api.delete(f"/api/v2/tokens/{trader_token}", **world.acme.auth("analyst"))

    assert response.status_code == 404
    assert ApiToken.objects.get(pk=trader_token).revoked_at is None


def test_role_downgrade_shrinks_existing_tokens(world, api):
    membership = Membership.objects.get(pk=world.acme.members["admin"].membership_id)
    membership.role = "viewer"
    membership.save()

    response = api.get("/api/v2/me", **world.acme.auth("admin"))

    assert response.json()["permissions"] == ["curves:read", "scenarios:read"]
