"""GET/PUT /api/v2/sso: the tenant's SSO configuration over the API, for admins; the secret is write-only."""

from __future__ import annotations

import json

from apps.accounts.models import TenantSsoConfig
from tests.support.oidc import sso_audit_entries

BODY = {
    "is_enabled": True,
    "issuer": "https://login.acme.example/realms/acme",
    "client_id": "aurum-portal",
    "client_secret": "api-typed-secret-9",
    "role_mapping": {"aurum-admins": "admin"},
    "default_role": "viewer",
    "jwt_enabled": True,
}


def test_an_admin_reads_the_defaults_then_configures_sso(world, api):
    auth = world.acme.auth("admin")

    before = api.get("/api/v2/sso", **auth)
    saved = api.put("/api/v2/sso", BODY, format="json", **auth)
    after = api.get("/api/v2/sso", **auth)

    assert before.status_code == 200
    assert (
        before.json()["data"]["configured"] is False
        and before.json()["data"]["scopes"] == "openid email profile"
    )
    assert saved.status_code == 200, saved.content
    data = after.json()["data"]
    assert data["configured"] and data["client_secret_set"] and data["jwt_enabled"]
    assert data["role_mapping"] == {"aurum-admins": "admin"} and data["default_role"] == "viewer"
    assert "api-typed-secret-9" not in saved.content.decode() + after.content.decode()
    assert after["Cache-Control"] == "private, no-store"
    assert TenantSsoConfig.objects.get(tenant__schema_name="acme").client_secret == "api-typed-secret-9"
    [entry] = sso_audit_entries("acme", "sso.config.create")
    assert json.loads(entry.changes)["client_secret"] == "changed"


def test_fields_left_out_keep_their_value(world, api):
    auth = world.acme.auth("admin")
    api.put("/api/v2/sso", BODY, format="json", **auth)

    response = api.put("/api/v2/sso", {"sso_only": True}, format="json", **auth)

    assert response.status_code == 200
    config = TenantSsoConfig.objects.get(tenant__schema_name="acme")
    assert (config.sso_only, config.issuer, config.client_secret) == (
        True,
        BODY["issuer"],
        "api-typed-secret-9",
    )
    [update] = sso_audit_entries("acme", "sso.config.update")
    assert json.loads(update.changes) == {"sso_only": True}


def test_bad_input_is_a_400_problem_and_nothing_is_saved(world, api, settings):
    settings.AURUM_SSO_ALLOW_HTTP_ISSUERS = False  # production's rule: https issuers only
    auth = world.acme.auth("admin")
    cases = [
        ({**BODY, "issuer": "http://login.acme.example"}, "issuer"),
        ({**BODY, "role_mapping": {"x": "root"}}, "role_mapping"),
        ({**BODY, "scopes": "email"}, "scopes"),
        ({"is_enabled": True}, "issuer"),  # no configuration yet: the issuer and client id are needed
    ]
    for body, field in cases:
        response = api.put("/api/v2/sso", body, format="json", **auth)

        assert response.status_code == 400, body
        assert field in {error["field"].split(".")[0] for error in response.json()["errors"]}, response.json()
    assert not TenantSsoConfig.objects.filter(tenant__schema_name="acme").exists()


def test_only_admins_and_only_their_own_tenant(world, api):
    api.put("/api/v2/sso", BODY, format="json", **world.acme.auth("admin"))

    assert api.get("/api/v2/sso", **world.acme.auth("trader")).status_code == 403
    assert (
        api.put("/api/v2/sso", {"sso_only": True}, format="json", **world.acme.auth("trader")).status_code
        == 403
    )
    globex = api.get("/api/v2/sso", **world.globex.auth("admin")).json()["data"]
    assert globex["configured"] is False and globex["issuer"] == ""
    assert TenantSsoConfig.objects.get(tenant__schema_name="acme").sso_only is False
