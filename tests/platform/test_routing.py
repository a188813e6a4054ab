"""Tenant resolution: by host for the portal, by credential for the API; never into a foreign tenant."""

import pytest


def test_portal_is_routed_by_subdomain(world, api):
    acme = api.get("/login/", HTTP_HOST="acme.localhost")
    globex = api.get("/login/", HTTP_HOST="globex.localhost:8000")

    assert acme.status_code == 200
    assert "Sign in to Acme Energy" in acme.content.decode()
    assert "Sign in to Globex Power" in globex.content.decode()


def test_unknown_subdomain_is_a_404_problem(world, api):
    response = api.get("/login/", HTTP_HOST="nosuch.localhost")

    assert response.status_code == 404
    assert response.json()["title"] == "Unknown tenant"


def test_token_decides_the_tenant_on_the_platform_host(world, api):
    acme = api.get("/api/v2/me", **world.acme.auth("analyst"))
    globex = api.get("/api/v2/me", **world.globex.auth("analyst"))

    assert acme.json()["tenant"]["schema"] == "acme"
    assert globex.json()["tenant"]["schema"] == "globex"
    assert acme.json()["email"] == "analyst@acme.example"


def test_token_on_another_tenants_host_is_404(world, api):
    response = api.get("/api/v2/me", HTTP_HOST=world.globex.host, **world.acme.auth("admin"))

    assert response.status_code == 404
    assert "acme" not in response.content.decode().lower()


@pytest.mark.parametrize("named", ["globex", "nosuch"])
def test_token_naming_another_tenant_is_404(world, api, named):
    response = api.get("/api/v2/me", HTTP_X_AURUM_TENANT=named, **world.acme.auth("admin"))

    assert response.status_code == 404
    assert response.json()["title"] == "Unknown tenant"


def test_token_naming_its_own_tenant_by_schema_or_id_is_fine(world, api):
    by_schema = api.get("/api/v2/me", HTTP_X_AURUM_TENANT="acme", **world.acme.auth())
    by_id = api.get("/api/v2/me", HTTP_X_AURUM_TENANT=str(world.acme.pk), **world.acme.auth())

    assert by_schema.status_code == by_id.status_code == 200


def test_anonymous_api_call_is_401_problem(world, api):
    response = api.get("/api/v2/me")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.fixture
def consultant(world):
    """A user who is a member of both tenants (analyst in acme, viewer in globex)."""
    from apps.accounts.services import membership_create, user_create
    from tenants.models import Tenant

    user = user_create(email="consultant@example.com", password="consultant-pass-1")
    membership_create(user=user, tenant=Tenant.objects.get(schema_name="acme"), role="analyst")
    membership_create(user=user, tenant=Tenant.objects.get(schema_name="globex"), role="viewer")
    return user


def test_session_user_with_several_memberships_must_name_one(world, api, consultant):
    api.force_login(consultant)

    unnamed = api.get("/api/v2/me")
    named = api.get("/api/v2/me", HTTP_X_AURUM_TENANT="globex")

    assert unnamed.status_code == 400
    assert "X-Aurum-Tenant" in unnamed.json()["detail"]
    assert named.status_code == 200
    assert named.json()["tenant"]["schema"] == "globex"
    assert named.json()["role"] == "viewer"
    assert named.json()["auth"] == "session"


def test_session_user_naming_a_tenant_they_do_not_belong_to_is_404(world, api):
    from apps.accounts.models import User

    api.force_login(User.objects.get(email="admin@acme.example"))

    assert api.get("/api/v2/me", HTTP_X_AURUM_TENANT="globex").status_code == 404
    assert api.get("/api/v2/me").json()["tenant"]["schema"] == "acme"


def test_session_of_another_tenants_user_gets_nothing_on_this_host(world, api):
    from apps.accounts.models import User

    api.force_login(User.objects.get(email="admin@acme.example"))
    response = api.get("/api/v2/me", HTTP_HOST=world.globex.host)

    assert response.status_code == 401


def test_admin_is_only_on_the_platform_host(world, api):
    assert api.get("/admin/login/").status_code == 200
    assert api.get("/admin/login/", HTTP_HOST=world.acme.host).status_code == 404
