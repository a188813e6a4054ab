"""/settings/sso/: admins (members:manage) view and change the tenant's single sign-on, the client secret is
sealed at rest and never shown back, every change is in the tenant's ledger without the secret, and "Check
issuer" reads the provider's discovery document (the real provider process) or says what is wrong."""

from __future__ import annotations

import json
from typing import Any

from django.db import connection
from django.test import Client

from apps.accounts.models import TenantSsoConfig, User
from tests.support.oidc import sso_audit_entries, sso_configure
from tests.support.page_policy import assert_page_keeps_the_policy

SECRET = "very-secret-client-value-42"


def _signed_in(world: Any, role: str = "admin", tenant: str = "acme") -> Client:
    tenant_world = getattr(world, tenant)
    client = Client(HTTP_HOST=tenant_world.host)
    client.force_login(User.objects.get(email=tenant_world.members[role].email))
    return client


def _form(issuer: str, /, **changes: Any) -> dict[str, Any]:
    form = {
        "is_enabled": "on",
        "issuer": issuer,
        "client_id": "acme-portal",
        "client_secret": SECRET,
        "scopes": "openid email profile",
        "button_label": "Sign in with Acme ID",
        "role_claim": "groups",
        "role_mapping": "aurum-admins = admin\naurum-traders = trader",
        "default_role": "viewer",
        "jwt_audience": "",
    }
    form.update(changes)
    return {name: value for name, value in form.items() if value is not None}


def test_only_admins_open_it(world):
    for role, status in (("viewer", 403), ("analyst", 403), ("trader", 403), ("admin", 200)):
        assert _signed_in(world, role).get("/settings/sso/").status_code == status, role
    analyst_settings = _signed_in(world, "analyst").get("/settings/").content.decode()
    assert 'href="/settings/sso/"' not in analyst_settings


def test_an_admin_saves_the_configuration_and_the_secret_is_sealed_and_never_shown(world, oidc_provider):
    client = _signed_in(world)
    page = client.get("/settings/sso/")
    assert_page_keeps_the_policy(page)
    assert "not configured" in page.content.decode()

    response = client.post("/settings/sso/save/", _form(oidc_provider.issuer()))

    assert response.status_code == 302 and response["Location"] == "/settings/sso/"
    config = TenantSsoConfig.objects.get(tenant__schema_name="acme")
    assert (config.is_enabled, config.client_id, config.client_secret) == (True, "acme-portal", SECRET)
    assert config.role_mapping == {"aurum-admins": "admin", "aurum-traders": "trader"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT client_secret FROM accounts_tenantssoconfig WHERE id = %s", [config.pk])
        stored = cursor.fetchone()[0]
    assert SECRET not in stored and stored.startswith("gAAAAA")  # a Fernet token
    shown = client.get("/settings/sso/").content.decode()
    assert SECRET not in shown and "stored (never shown)" in shown
    assert "aurum-traders = trader" in shown
    [entry] = sso_audit_entries("acme", "sso.config.create")
    changes = json.loads(entry.changes)
    assert changes["client_secret"] == "changed" and SECRET not in entry.changes
    assert (
        changes["issuer"] == oidc_provider.issuer()
        and entry.actor_display == world.acme.members["admin"].email
    )


def test_an_empty_secret_keeps_the_stored_one(world, oidc_provider):
    sso_configure("acme", issuer=oidc_provider.issuer(), client_id="acme-portal", client_secret=SECRET)

    response = _signed_in(world).post(
        "/settings/sso/save/", _form(oidc_provider.issuer(), client_secret="", sso_only="on")
    )

    assert response.status_code == 302
    config = TenantSsoConfig.objects.get(tenant__schema_name="acme")
    assert config.client_secret == SECRET and config.sso_only
    [update] = sso_audit_entries("acme", "sso.config.update")
    assert "client_secret" not in json.loads(update.changes)


def test_bad_input_is_refused_next_to_its_field_and_nothing_is_saved(world, oidc_provider):
    client = _signed_in(world)
    cases = [
        ({"issuer": "ftp://idp.example"}, "The issuer must be an https URL without query or fragment."),
        ({"role_mapping": "aurum-admins = superuser"}, "Line 1: &#x27;superuser&#x27; is not a role"),
        ({"role_mapping": "no equals sign"}, "Line 1: write &#x27;claim value = role&#x27;."),
        ({"scopes": "email profile"}, "The scopes must include &#x27;openid&#x27;."),
    ]
    for changes, message in cases:
        response = client.post("/settings/sso/save/", _form(oidc_provider.issuer(), **changes))

        assert response.status_code == 400, changes
        assert message in response.content.decode(), changes
    assert not TenantSsoConfig.objects.filter(tenant__schema_name="acme").exists()
    assert sso_audit_entries("acme", "sso.config.create") == []


def test_check_issuer_shows_what_the_provider_publishes_or_what_is_wrong(world, oidc_provider):
    client = _signed_in(world)

    found = client.post("/settings/sso/check/", {"issuer": oidc_provider.issuer()}).content.decode()
    wrong_path = client.post(
        "/settings/sso/check/", {"issuer": oidc_provider.url("/nothing")}
    ).content.decode()
    unreachable = client.post("/settings/sso/check/", {"issuer": "http://127.0.0.1:9/o"}).content.decode()

    assert "Found an OpenID provider." in found
    assert f"<code>{oidc_provider.issuer()}/token/</code>" in found
    assert f"<code>{oidc_provider.issuer()}/logout/</code>" in found
    assert "answered HTTP 404, not 200." in wrong_path
    assert "could not be reached (ConnectionError)." in unreachable
    assert not TenantSsoConfig.objects.filter(tenant__schema_name="acme").exists()  # a check saves nothing


def test_each_tenant_sees_only_its_own_configuration(world, oidc_provider):
    sso_configure("acme", issuer=oidc_provider.issuer(), client_id="acme-only-client", client_secret=SECRET)

    globex = _signed_in(world, "admin", "globex").get("/settings/sso/").content.decode()

    assert "acme-only-client" not in globex and "not configured" in globex
