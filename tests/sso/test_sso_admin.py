"""Platform staff configure a tenant's SSO in the Django admin: the secret field is write-only (never
rendered back), saving goes through the service (validated, audited in the tenant's ledger, no secret)."""

from __future__ import annotations

import json

from apps.accounts.models import TenantSsoConfig
from tests.support.oidc import sso_audit_entries, sso_configure

ADMIN = "/admin/accounts/tenantssoconfig/"


def _post(world, **changes):
    form = {
        "tenant": str(world.globex.pk),
        "is_enabled": "on",
        "issuer": "https://login.globex.example/realms/globex",
        "client_id": "globex-portal",
        "client_secret_new": "admin-typed-secret-1",
        "scopes": "openid email profile",
        "role_claim": "groups",
        "role_mapping": json.dumps({"globex-admins": "admin"}),
        "default_role": "",
        "button_label": "",
        "jwt_audience": "",
    }
    form.update(changes)
    return form


def test_staff_create_a_config_with_a_write_only_secret_and_it_is_audited(world, api):
    assert api.login(email=world.staff_email, password=world.staff_password)

    response = api.post(f"{ADMIN}add/", _post(world))

    assert response.status_code == 302, response.content.decode()[:2000]
    config = TenantSsoConfig.objects.get(tenant__schema_name="globex")
    assert (config.client_id, config.client_secret) == ("globex-portal", "admin-typed-secret-1")
    assert config.role_mapping == {"globex-admins": "admin"}
    page = api.get(f"{ADMIN}{config.pk}/change/").content.decode()
    assert "admin-typed-secret-1" not in page and 'name="client_secret_new"' in page
    [entry] = sso_audit_entries("globex", "sso.config.create")
    assert (
        json.loads(entry.changes)["client_secret"] == "changed" and entry.actor_display == world.staff_email
    )


def test_staff_input_is_validated_like_the_portals(world, api):
    assert api.login(email=world.staff_email, password=world.staff_password)

    response = api.post(f"{ADMIN}add/", _post(world, scopes="email", role_mapping='{"x": "superuser"}'))

    assert response.status_code == 200  # the form again, with its errors
    page = response.content.decode()
    assert "The scopes must include &#x27;openid&#x27;." in page and "Not roles: superuser" in page
    assert not TenantSsoConfig.objects.filter(tenant__schema_name="globex").exists()


def test_an_empty_secret_field_keeps_the_stored_secret(world, api):
    config = sso_configure(
        "globex",
        issuer="https://login.globex.example",
        client_id="globex-portal",
        client_secret="kept-secret",
    )
    assert api.login(email=world.staff_email, password=world.staff_password)

    response = api.post(
        f"{ADMIN}{config.pk}/change/",
        _post(world, issuer="https://login.globex.example", client_secret_new="", sso_only="on"),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    config.refresh_from_db()
    assert config.client_secret == "kept-secret" and config.sso_only
