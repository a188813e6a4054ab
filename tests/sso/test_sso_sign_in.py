"""Portal single sign-on end to end against a real provider (django-oauth-toolkit in its own process): the
browser's side is ``requests`` posting the provider's sign-in and consent forms; Aurum's is the test client on
the tenant's host. Nothing of the protocol is mocked: the code exchange, the ID token's signature (fetched
JWKS), state, nonce and PKCE are the real ones."""

from __future__ import annotations

import json

import pytest
import requests
from django.test import Client

from apps.accounts.models import Membership, User
from apps.accounts.sso.tokens import JwtInvalidError, jwt_verify
from tests.support.oidc import sso_audit_entries, sso_configure, sso_sign_in

ACME_CALLBACK = "http://acme.localhost/sso/callback/"
GLOBEX_CALLBACK = "http://globex.localhost/sso/callback/"


@pytest.fixture
def acme_sso(world, oidc_provider):
    oidc_provider.client_app(
        client_id="acme-portal",
        secret="acme-client-secret",
        redirect_uri=ACME_CALLBACK,
        logout_uri="http://acme.localhost/login/",
    )
    return sso_configure(
        "acme", issuer=oidc_provider.issuer(), client_id="acme-portal", client_secret="acme-client-secret"
    )


def _signed_in_email(client: Client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id).email if user_id else None


def test_a_member_signs_in_with_the_role_their_groups_map_to_and_it_is_audited(
    world, oidc_provider, acme_sso
):
    # Given acme's viewer, who is in the provider's "aurum-traders" group
    email = world.acme.members["viewer"].email
    oidc_provider.user(email, "provider-pass-1", ["aurum-traders", "unrelated"])
    client = Client(HTTP_HOST=world.acme.host)

    # When they sign in through the provider
    signed = sso_sign_in(client, requests.Session(), email=email, password="provider-pass-1")

    # Then they land on the portal signed in, as a trader now, and the ledger says so
    assert signed.consent_shown
    assert signed.response.status_code == 302 and signed.response["Location"] == "/"
    assert _signed_in_email(client) == email
    assert Membership.objects.get(pk=world.acme.members["viewer"].membership_id).role == "trader"
    assert client.get("/").status_code == 200
    [entry] = sso_audit_entries("acme", "sso.sign_in")
    assert entry.actor_display == email and entry.resource_id == str(
        world.acme.members["viewer"].membership_id
    )
    assert json.loads(entry.changes) == {
        "method": "oidc",
        "email": email,
        "role": "trader",
        "role_from": "viewer",
        "issuer": oidc_provider.issuer(),
    }


def test_signing_out_ends_the_aurum_session(world, oidc_provider, acme_sso):
    email = world.acme.members["analyst"].email
    oidc_provider.user(email, "provider-pass-2", ["aurum-analysts"])
    client = Client(HTTP_HOST=world.acme.host)
    sso_sign_in(client, requests.Session(), email=email, password="provider-pass-2")
    assert _signed_in_email(client) == email

    response = client.post("/logout/")

    assert response.status_code == 302 and response["Location"] == "/login/"
    assert _signed_in_email(client) is None
    assert client.get("/").status_code == 302  # back to the sign-in page


def test_signing_out_can_end_the_providers_session_too(world, oidc_provider, acme_sso):
    # Given acme signs out at the provider too
    sso_configure("acme", provider_logout=True)
    email = world.acme.members["analyst"].email
    oidc_provider.user(email, "provider-pass-3", ["aurum-analysts"])
    client, person = Client(HTTP_HOST=world.acme.host), requests.Session()
    sso_sign_in(client, person, email=email, password="provider-pass-3")
    assert _signed_in_email(client) == email

    # When they sign out
    response = client.post("/logout/")

    # Then Aurum's session is gone and the browser goes to the provider's end-session endpoint with the ID
    # token it issued, which the provider accepts (its sign-out confirmation page)
    assert _signed_in_email(client) is None
    location = response["Location"]
    assert location.startswith(oidc_provider.issuer() + "/logout/?")
    assert "id_token_hint=" in location and "client_id=acme-portal" in location
    at_provider = person.get(location, allow_redirects=False, timeout=10)
    assert at_provider.status_code == 200 and "logout" in at_provider.text.lower()


def test_the_first_sign_in_provisions_the_member_when_the_tenant_allows_it(world, oidc_provider):
    # Given globex (its provider reached as "localhost": another issuer) provisions members as viewers
    oidc_provider.client_app(client_id="globex-portal", secret="globex-secret", redirect_uri=GLOBEX_CALLBACK)
    sso_configure(
        "globex",
        issuer=oidc_provider.issuer("localhost"),
        client_id="globex-portal",
        client_secret="globex-secret",
        jit_provisioning=True,
        default_role="viewer",
    )
    oidc_provider.user("newcomer@globex.example", "provider-pass-4", [])
    client = Client(HTTP_HOST=world.globex.host)

    signed = sso_sign_in(
        client, requests.Session(), email="newcomer@globex.example", password="provider-pass-4"
    )

    assert signed.response.status_code == 302
    user = User.objects.get(email="newcomer@globex.example")
    assert not user.has_usable_password()
    assert [(m.tenant.schema_name, m.role) for m in user.memberships.all()] == [("globex", "viewer")]
    [entry] = sso_audit_entries("globex", "sso.sign_in")
    assert json.loads(entry.changes)["provisioned"] is True


def test_an_unknown_user_is_refused_without_provisioning(world, oidc_provider, acme_sso):
    oidc_provider.user("stranger@elsewhere.example", "provider-pass-5", ["aurum-admins"])
    client = Client(HTTP_HOST=world.acme.host)

    signed = sso_sign_in(
        client, requests.Session(), email="stranger@elsewhere.example", password="provider-pass-5"
    )

    assert signed.response.status_code == 302
    assert signed.response["Location"] == "/login/?sso_error=not-a-member"
    assert _signed_in_email(client) is None
    assert not User.objects.filter(email="stranger@elsewhere.example").exists()
    assert sso_audit_entries("acme", "sso.sign_in") == []
    page = client.get(signed.response["Location"])
    assert page.status_code == 401 and "has no access to this workspace" in page.content.decode()


def test_a_member_of_another_tenant_is_refused(world, oidc_provider, acme_sso):
    # Given globex's admin has an account at acme's provider, but no membership in acme
    email = world.globex.members["admin"].email
    oidc_provider.user(email, "provider-pass-6", ["aurum-admins"])
    client = Client(HTTP_HOST=world.acme.host)

    signed = sso_sign_in(client, requests.Session(), email=email, password="provider-pass-6")

    assert signed.response["Location"] == "/login/?sso_error=not-a-member"
    assert _signed_in_email(client) is None
    assert list(Membership.objects.filter(user__email=email).values_list("tenant__schema_name", "role")) == [
        ("globex", "admin")
    ]


def test_no_mapped_group_and_no_default_role_refuses_and_keeps_the_role(world, oidc_provider, acme_sso):
    email = world.acme.members["trader"].email
    oidc_provider.user(email, "provider-pass-7", ["unrelated"])
    client = Client(HTTP_HOST=world.acme.host)

    signed = sso_sign_in(client, requests.Session(), email=email, password="provider-pass-7")

    assert signed.response["Location"] == "/login/?sso_error=no-role"
    assert _signed_in_email(client) is None
    assert Membership.objects.get(pk=world.acme.members["trader"].membership_id).role == "trader"


def test_an_id_token_of_another_tenants_issuer_is_refused(world, oidc_provider):
    # Given acme and globex use one client registration, at two issuers (127.0.0.1 and localhost)
    oidc_provider.client_app(
        client_id="shared-portal", secret="shared-secret", redirect_uri=f"{ACME_CALLBACK} {GLOBEX_CALLBACK}"
    )
    acme = sso_configure(
        "acme", issuer=oidc_provider.issuer(), client_id="shared-portal", client_secret="shared-secret"
    )
    sso_configure(
        "globex",
        issuer=oidc_provider.issuer("localhost"),
        client_id="shared-portal",
        client_secret="shared-secret",
        default_role="viewer",
    )
    email = world.globex.members["analyst"].email
    oidc_provider.user(email, "provider-pass-8", [])
    globex = Client(HTTP_HOST=world.globex.host)
    sso_sign_in(globex, requests.Session(), email=email, password="provider-pass-8")
    id_token = globex.session["oidc_id_token"]  # a real ID token of globex's issuer, for this client

    # When acme's check is given globex's ID token, Then it is refused for its issuer
    assert (
        jwt_verify(
            tenant_id=world.globex.pk,
            issuer=oidc_provider.issuer("localhost"),
            audience="shared-portal",
            token=id_token,
        )["email"]
        == email
    )
    with pytest.raises(JwtInvalidError) as refused:
        jwt_verify(tenant_id=acme.tenant_id, issuer=acme.issuer, audience="shared-portal", token=id_token)
    assert refused.value.reason == "wrong issuer"


def test_a_forged_state_is_refused(world, oidc_provider, acme_sso):
    client = Client(HTTP_HOST=world.acme.host)
    client.get("/sso/login/")

    response = client.get("/sso/callback/", {"code": "whatever", "state": "forged"})

    assert response.status_code == 400
    assert _signed_in_email(client) is None


def test_a_tenant_without_sso_has_no_sso_routes_nor_button(world):
    client = Client(HTTP_HOST=world.globex.host)

    assert client.get("/sso/login/").status_code == 404
    assert client.get("/sso/callback/", {"code": "x", "state": "y"}).status_code == 404
    page = client.get("/login/").content.decode()
    assert 'id="sso-signin"' not in page and 'name="password"' in page


def test_sso_only_hides_and_refuses_passwords(world, oidc_provider, acme_sso):
    # Given acme signs in with SSO only
    sso_configure("acme", sso_only=True, button_label="Sign in with Acme ID")
    client = Client(HTTP_HOST=world.acme.host)
    member = world.acme.members["admin"]

    # When a member posts their (right) password
    page = client.get("/login/").content.decode()
    response = client.post("/login/", {"email": member.email, "password": member.password})

    # Then the page offers only the SSO button and the password is refused
    assert "Sign in with Acme ID" in page and 'name="password"' not in page
    assert response.status_code == 403 and "single sign-on only" in response.content.decode()
    assert _signed_in_email(client) is None


def test_passwords_still_work_beside_sso_when_not_sso_only(world, oidc_provider, acme_sso):
    client = Client(HTTP_HOST=world.acme.host)
    member = world.acme.members["admin"]

    page = client.get("/login/").content.decode()
    response = client.post("/login/", {"email": member.email, "password": member.password})

    assert 'id="sso-signin"' in page and 'name="password"' in page
    assert response.status_code == 302 and _signed_in_email(client) == member.email
