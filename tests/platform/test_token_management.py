"""Token management follows the credential, not the role (docs/decisions/0012-token-management.md).

Listing, creating and revoking need tokens:own (one's own tokens) or tokens:manage (the tenant's) in the
credential's effective permissions; a token never mints a token that outlives it or has wider scopes; a child
records its parent and is revoked with it.
"""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import ApiToken, Membership, User
from apps.accounts.services import api_token_create


def _membership(world, role: str, tenant: str = "acme") -> Membership:
    return Membership.objects.get(pk=getattr(world, tenant).members[role].membership_id)


def _bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _token_state() -> list[tuple[int, datetime | None]]:
    return list(ApiToken.objects.order_by("pk").values_list("pk", "revoked_at"))


def test_a_read_only_admin_token_can_neither_list_nor_create_nor_revoke_tokens(world, api):
    # Given a BI tool's token of an admin, narrowed to curves:read
    _, bi = api_token_create(membership=_membership(world, "admin"), name="BI", scopes=["curves:read"])
    before = _token_state()
    trader_token = world.acme.members["trader"].token_id
    own_token = world.acme.members["admin"].token_id

    # When it tries to manage tokens
    listed = api.get("/api/v2/tokens", **_bearer(bi))
    shown = api.get(f"/api/v2/tokens/{trader_token}", **_bearer(bi))
    revoked_other = api.delete(f"/api/v2/tokens/{trader_token}", **_bearer(bi))
    revoked_own = api.delete(f"/api/v2/tokens/{own_token}", **_bearer(bi))
    created = api.post("/api/v2/tokens", {"name": "escalate"}, format="json", **_bearer(bi))

    # Then every attempt is a 403 problem, and no token changed or appeared
    for response in (listed, shown, revoked_other, revoked_own, created):
        assert response.status_code == 403
        assert response["Content-Type"] == "application/problem+json"
        assert "tokens:own" in response.json()["detail"]
    assert _token_state() == before
    # The admin's own full credential still manages every token of the tenant
    assert api.get("/api/v2/tokens", **world.acme.auth("admin")).status_code == 200


def test_a_viewer_manages_no_tokens(world, api):
    listed = api.get("/api/v2/tokens", **world.acme.auth("viewer"))
    created = api.post("/api/v2/tokens", {"name": "mine"}, format="json", **world.acme.auth("viewer"))
    revoked = api.delete(
        f"/api/v2/tokens/{world.acme.members['viewer'].token_id}", **world.acme.auth("viewer")
    )

    assert [listed.status_code, created.status_code, revoked.status_code] == [403, 403, 403]
    assert ApiToken.objects.get(pk=world.acme.members["viewer"].token_id).revoked_at is None


def test_a_one_hour_token_mints_tokens_that_expire_with_it(world, api):
    expiry = timezone.now() + timedelta(hours=1)
    parent, raw = api_token_create(membership=_membership(world, "analyst"), name="1h", expires_at=expiry)
    count = ApiToken.objects.count()

    omitted = api.post("/api/v2/tokens", {"name": "no expiry"}, format="json", **_bearer(raw))
    null = api.post("/api/v2/tokens", {"name": "null", "expires_at": None}, format="json", **_bearer(raw))
    later = api.post(
        "/api/v2/tokens",
        {"name": "later", "expires_at": (expiry + timedelta(seconds=1)).isoformat()},
        format="json",
        **_bearer(raw),
    )
    sooner = api.post(
        "/api/v2/tokens",
        {"name": "sooner", "expires_at": (expiry - timedelta(minutes=30)).isoformat()},
        format="json",
        **_bearer(raw),
    )

    assert omitted.status_code == null.status_code == sooner.status_code == 201
    for response in (omitted, null):
        child = ApiToken.objects.get(pk=response.json()["data"]["id"])
        assert child.expires_at == expiry
        assert child.parent_id == parent.pk
        assert response.json()["data"]["parent"] == parent.pk
    assert ApiToken.objects.get(pk=sooner.json()["data"]["id"]).expires_at == expiry - timedelta(minutes=30)
    assert later.status_code == 400
    assert later.json()["errors"] == [
        {
            "field": "expires_at",
            "message": "A token cannot outlive the token that creates it "
            f"(it expires at {expiry.isoformat()}).",
            "code": "exceeds_parent",
        }
    ]
    assert ApiToken.objects.count() == count + 3


def test_a_token_cannot_mint_wider_scopes_than_its_own(world, api):
    _, raw = api_token_create(
        membership=_membership(world, "trader"), name="reader", scopes=["curves:read", "tokens:own"]
    )
    count = ApiToken.objects.count()

    response = api.post(
        "/api/v2/tokens",
        {"name": "runner", "scopes": ["curves:read", "scenarios:run"]},
        format="json",
        **_bearer(raw),
    )

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "scopes", "message": "This credential cannot grant: scenarios:run.", "code": "invalid"}
    ]
    assert ApiToken.objects.count() == count


def test_revoking_a_token_revokes_every_token_minted_from_it(world, api):
    # Given parent → child → grandchild, and an unrelated token of the same member
    parent, parent_raw = api_token_create(membership=_membership(world, "analyst"), name="parent")
    child = api.post("/api/v2/tokens", {"name": "child"}, format="json", **_bearer(parent_raw)).json()["data"]
    grandchild = api.post(
        "/api/v2/tokens", {"name": "grandchild"}, format="json", **_bearer(child["token"])
    ).json()["data"]
    _, unrelated_raw = api_token_create(membership=_membership(world, "analyst"), name="unrelated")
    assert (child["parent"], grandchild["parent"]) == (parent.pk, child["id"])

    # When the member revokes the parent
    response = api.delete(f"/api/v2/tokens/{parent.pk}", **world.acme.auth("analyst"))

    # Then the whole line is revoked at the same instant, and only it
    assert response.status_code == 204
    revoked = dict(
        ApiToken.objects.filter(pk__in=[parent.pk, child["id"], grandchild["id"]]).values_list(
            "pk", "revoked_at"
        )
    )
    assert revoked[parent.pk] is not None
    assert revoked[child["id"]] == revoked[grandchild["id"]] == revoked[parent.pk]
    refused = api.get("/api/v2/me", **_bearer(grandchild["token"]))
    assert refused.status_code == 401
    assert refused.json()["detail"] == "The bearer token is not valid (revoked)."
    assert api.get("/api/v2/me", **_bearer(unrelated_raw)).status_code == 200


@pytest.mark.parametrize("state", ["revoked", "expired"])
def test_authentication_refuses_a_token_whose_ancestor_is_no_longer_valid(world, api, state):
    # Rows as older code could leave them: the grandparent changed without cascading to its line.
    member = _membership(world, "analyst")
    grandparent, _ = api_token_create(membership=member, name="grandparent")
    parent, _ = api_token_create(membership=member, name="parent", parent=grandparent)
    _, raw = api_token_create(membership=member, name="child", parent=parent)
    assert api.get("/api/v2/me", **_bearer(raw)).status_code == 200

    past = timezone.now() - timedelta(seconds=1)
    field = "revoked_at" if state == "revoked" else "expires_at"
    ApiToken.objects.filter(pk=grandparent.pk).update(**{field: past})
    response = api.get("/api/v2/me", **_bearer(raw))

    assert response.status_code == 401
    assert response.json()["detail"] == f"The bearer token is not valid (parent {state})."


def test_an_analyst_session_manages_its_own_tokens_only(world, api):
    api.force_login(User.objects.get(email="analyst@acme.example"))
    trader_token = world.acme.members["trader"].token_id

    listed = api.get("/api/v2/tokens", HTTP_HOST=world.acme.host)
    created = api.post("/api/v2/tokens", {"name": "notebook"}, format="json", HTTP_HOST=world.acme.host)
    for_other = api.post(
        "/api/v2/tokens",
        {"name": "for trader", "member": world.acme.members["trader"].membership_id},
        format="json",
        HTTP_HOST=world.acme.host,
    )
    shown = api.get(f"/api/v2/tokens/{trader_token}", HTTP_HOST=world.acme.host)
    revoke_other = api.delete(f"/api/v2/tokens/{trader_token}", HTTP_HOST=world.acme.host)
    revoke_own = api.delete(f"/api/v2/tokens/{created.json()['data']['id']}", HTTP_HOST=world.acme.host)

    assert {t["owner"] for t in listed.json()["data"]} == {"analyst@acme.example"}
    assert created.status_code == 201
    assert created.json()["data"]["owner"] == "analyst@acme.example"
    assert created.json()["data"]["parent"] is None  # a session is no token: nothing to inherit from
    assert for_other.status_code == 403
    assert shown.status_code == revoke_other.status_code == 404
    assert ApiToken.objects.get(pk=trader_token).revoked_at is None
    assert revoke_own.status_code == 204


def test_an_admin_session_manages_every_token_of_its_tenant(world, api):
    api.force_login(User.objects.get(email="admin@acme.example"))
    viewer = world.acme.members["viewer"]

    listed = api.get("/api/v2/tokens", HTTP_HOST=world.acme.host)
    issued = api.post(
        "/api/v2/tokens",
        {"name": "viewer's excel", "member": viewer.membership_id},
        format="json",
        HTTP_HOST=world.acme.host,
    )
    foreign = api.post(
        "/api/v2/tokens",
        {"name": "x", "member": world.globex.members["viewer"].membership_id},
        format="json",
        HTTP_HOST=world.acme.host,
    )
    revoked = api.delete(f"/api/v2/tokens/{world.acme.members['trader'].token_id}", HTTP_HOST=world.acme.host)

    assert {t["owner"] for t in listed.json()["data"]} == {
        f"{role}@acme.example" for role in ("admin", "trader", "analyst", "viewer")
    }
    assert issued.status_code == 201
    assert issued.json()["data"]["owner"] == "viewer@acme.example"
    assert issued.json()["data"]["scopes"] == ["curves:read", "scenarios:read"]  # the viewer's role bounds it
    assert api.get("/api/v2/me", **_bearer(issued.json()["data"]["token"])).json()["email"] == viewer.email
    assert foreign.status_code == 404
    assert revoked.status_code == 204
    assert ApiToken.objects.get(pk=world.acme.members["trader"].token_id).revoked_at is not None


def test_the_token_list_is_a_v2_page_with_cursors(world, api, django_assert_num_queries):
    member = _membership(world, "analyst")
    names = [f"t{i}" for i in range(4)]
    for name in names:
        api_token_create(membership=member, name=name)
    api.force_login(User.objects.get(email="analyst@acme.example"))

    # domain, session, user, membership (with tenant and plan), the tenant's search_path, the page (owners
    # joined); the sign-in left the connection on the public path (decision 0057: no SET to public again)
    with django_assert_num_queries(6):
        first = api.get("/api/v2/tokens?limit=3", HTTP_HOST=world.acme.host)
    second = api.get(first.json()["links"]["next"], HTTP_HOST=world.acme.host)
    whole = api.get("/api/v2/tokens", HTTP_HOST=world.acme.host)
    again = api.get("/api/v2/tokens", HTTP_HOST=world.acme.host, HTTP_IF_NONE_MATCH=whole["ETag"])

    assert [t["name"] for t in first.json()["data"]] == ["t3", "t2", "t1"]
    assert first.json()["meta"]["has_more"] is True
    links = first.json()["links"]
    assert first["Link"] == f'<{links["self"]}>; rel="self", <{links["next"]}>; rel="next"'
    assert [t["name"] for t in second.json()["data"]] == ["t0", "analyst token"]
    assert second.json()["meta"]["has_more"] is False
    assert second.json()["links"]["next"] is None
    assert again.status_code == 304


def test_the_member_list_is_a_v2_page(world, api):
    first = api.get("/api/v2/members?limit=3", **world.acme.auth("admin"))
    second = api.get(first.json()["links"]["next"], **world.acme.auth("admin"))

    assert [m["email"] for m in first.json()["data"]] == [
        "admin@acme.example",
        "analyst@acme.example",
        "trader@acme.example",
    ]
    assert [m["email"] for m in second.json()["data"]] == ["viewer@acme.example"]
    assert first["ETag"] and first["Cache-Control"] == "private, no-cache"


def test_the_admin_revokes_a_token_with_its_descendants_and_cannot_edit_revocation(world, api):
    parent, _ = api_token_create(membership=_membership(world, "analyst"), name="parent")
    child, _ = api_token_create(membership=_membership(world, "analyst"), name="child", parent=parent)
    assert api.login(email=world.staff_email, password=world.staff_password)

    form = api.get(f"/admin/accounts/apitoken/{parent.pk}/change/").context["adminform"].form
    response = api.post(
        "/admin/accounts/apitoken/",
        {"action": "revoke", "_selected_action": [parent.pk]},
    )

    assert "revoked_at" not in form.fields and "parent" not in form.fields  # shown read-only
    assert response.status_code == 302
    revoked = dict(ApiToken.objects.filter(pk__in=[parent.pk, child.pk]).values_list("pk", "revoked_at"))
    assert revoked[parent.pk] is not None
    assert revoked[child.pk] == revoked[parent.pk]


def test_the_portal_shows_token_settings_only_to_members_who_manage_tokens(world, api):
    pages = {}
    for role in ("viewer", "analyst"):
        member = world.acme.members[role]
        api.post("/login/", {"email": member.email, "password": member.password}, HTTP_HOST=world.acme.host)
        pages[role] = api.get("/", HTTP_HOST=world.acme.host).content.decode()
        api.logout()

    assert "API tokens" not in pages["viewer"]
    assert "API tokens" in pages["analyst"]
    assert "analyst@acme.example" in pages["analyst"]
    assert "trader@acme.example" not in pages["analyst"]  # its own tokens only
