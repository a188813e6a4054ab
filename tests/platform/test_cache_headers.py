"""No shared cache may keep a private answer (issue 9, item 2): a suite over every GET route.

On a tenant's host, every GET route, with an API token and with a portal session, answers with a
``Cache-Control`` that is ``private`` (or ``no-store``) and never ``public``, and with ``Vary: Authorization,
Cookie, X-Aurum-Tenant``: its 200 (a path naming acme's own object where the route takes one), its 304, and
its error answers (an object it cannot see, no credential), and its files (CSV, Parquet, XLSX). On the
platform host: health, metrics, the API schema and docs, the admin and the API's refusals are never
``public``.

A new GET route without a case here fails ``test_every_get_route_has_a_case``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.support.routes import (
    DOCS_ROUTES,
    OWN_GET_PATHS,
    OWN_GET_STATUS,
    PUBLIC_URLCONF,
    ROUTES,
    TENANT_URLCONF,
    api_patterns,
    get_patterns,
    url_patterns,
)
from tests.support.world import World

VARY = {"authorization", "cookie", "x-aurum-tenant"}
NO_ID = "00000000-0000-0000-0000-000000000000"
# The tenant URLconf's routes outside /api/, each with the path a GET asks for.
# The original Aurum's probes (/health, /healthz, /live, /livez, /ready, /readyz): like /health/*.
ORIGINAL_PROBES = {probe: f"/{probe}" for probe in ("health", "healthz", "live", "livez", "ready", "readyz")}
SITE_PATHS = {
    "health/live": "/health/live",
    "health/ready": "/health/ready",
    **ORIGINAL_PROBES,
    "metrics": "/metrics",  # not served on a tenant's host: 404
    "": "/",
    "login/": "/login/",
    "logout/": "/logout/",  # POST only: 405
    "sso/login/": "/sso/login/",  # acme has no single sign-on in this suite: 404
    "sso/callback/": "/sso/callback/?code=x&state=y",  # 404 likewise
    "curves/": "/curves/?q=spark",
    "curves/movers/": "/curves/movers/",  # a redirect to the latest two vintages, or the page
    # An unknown curve: the portal's 404 page, private like the rest (tests/portal reads the real ones).
    "curves/<str:curve_key>/": "/curves/unknown/?asof=2025-07-01",
    "curves/<str:curve_key>/lineage/": "/curves/unknown/lineage/?asof=2025-07-01&tenor=2025-08",
    "curves/<str:curve_key>/history/": "/curves/unknown/history/?tenor=2025-08",
    "curves/<str:curve_key>/export/": "/curves/unknown/export/?asof=2025-07-01&format=csv",
    "ingestion/": "/ingestion/",
    "ingestion/upload/": "/ingestion/upload/",  # POST only: 405
    "ingestion/runs/<int:run_id>/": "/ingestion/runs/999999999/",  # 404
    "ingestion/runs/<int:run_id>/quarantine/": "/ingestion/runs/999999999/quarantine/",  # 404
    "settings/": "/settings/",
    "settings/audit/": "/settings/audit/",
    "settings/export/": "/settings/export/",
    "settings/export/request/": "/settings/export/request/",  # POST only: 405
    "settings/tokens/": "/settings/tokens/",  # POST only: 405
    "settings/tokens/<int:token_id>/revoke/": "/settings/tokens/1/revoke/",  # POST only: 405
    "settings/members/invite/": "/settings/members/invite/",  # POST only: 405
    "settings/members/<int:membership_id>/role/": "/settings/members/1/role/",  # POST only: 405
    "settings/members/<int:membership_id>/remove/": "/settings/members/1/remove/",  # POST only: 405
    "settings/invitations/<int:invitation_id>/revoke/": "/settings/invitations/1/revoke/",  # POST only: 405
    "invitations/<str:token>/": "/invitations/not-a-signed-link/",  # 404
    "settings/sso/": "/settings/sso/",
    "settings/sso/save/": "/settings/sso/save/",  # POST only: 405
    "settings/sso/check/": "/settings/sso/check/",  # POST only: 405
    "settings/webhooks/": "/settings/webhooks/",
    "settings/webhooks/create/": "/settings/webhooks/create/",  # POST only: 405
    # no endpoint with that id: 404 (tests/portal/test_webhooks_page.py reads acme's own); POST only: 405
    **{
        f"settings/webhooks/<str:endpoint_id>/{tail}": f"/settings/webhooks/{NO_ID}/{tail}".replace(
            "<int:delivery_id>", "1"
        )
        for tail in (
            "",
            "edit/",
            "rotate-secret/",
            "ping/",
            "enable/",
            "delete/",
            "deliveries/<int:delivery_id>/redeliver/",
        )
    },
    # the portal's scenario and PPA pages (another tenant's or no object: 404; POST-only routes: 405)
    **{
        route: "/"
        + route.replace("<str:scenario_id>", NO_ID)
        .replace("<str:run_id>", NO_ID)
        .replace("<str:contract_id>", NO_ID)
        .replace("<str:valuation_id>", NO_ID)
        .replace("<str:fmt>", "csv")
        for route in (
            "scenarios/",
            "scenarios/new/",
            "scenarios/compare/",
            "scenarios/<str:scenario_id>/",
            "scenarios/<str:scenario_id>/edit/",
            "scenarios/<str:scenario_id>/run/",
            "scenarios/<str:scenario_id>/runs/<str:run_id>/",
            "scenarios/<str:scenario_id>/runs/<str:run_id>/status/",
            "scenarios/<str:scenario_id>/runs/<str:run_id>/cancel/",
            "scenarios/<str:scenario_id>/runs/<str:run_id>/outputs.<str:fmt>",
            "ppa/",
            "ppa/new/",
            "ppa/<str:contract_id>/",
            "ppa/<str:contract_id>/edit/",
            "ppa/<str:contract_id>/value/",
            "ppa/<str:contract_id>/valuations/<str:valuation_id>/",
        )
    },
    "watchlist/": "/watchlist/",
    "watchlist/panel/": "/watchlist/panel/",
    "watchlist/notices/read/": "/watchlist/notices/read/",  # POST only: 405
    "watchlist/follow/<str:curve_key>/": "/watchlist/follow/unknown/",  # an unknown curve: 404
}
# The platform host's routes outside /api/ and /admin/.
PLATFORM_PATHS = {
    "health/live": "/health/live",
    "health/ready": "/health/ready",
    "metrics": "/metrics",
    **ORIGINAL_PROBES,
}
CREDENTIALS = ("token", "session")
TENANTLESS = ("health/", "metrics")  # the same answer on every host, whoever asks


def directives(response: Any) -> set[str]:
    """The Cache-Control directive names of ``response`` (lower case)."""
    value = response.get("Cache-Control") or ""
    return {part.split("=")[0].strip().lower() for part in value.split(",") if part.strip()}


def assert_never_public(response: Any) -> None:
    assert "public" not in directives(response), response.get("Cache-Control")


def assert_private(response: Any) -> None:
    """Only the caller's own cache may keep it, and a cache must key it by the credential and tenant."""
    assert_never_public(response)
    assert directives(response) & {"private", "no-store"}, response.get("Cache-Control")
    vary = {name.strip().lower() for name in (response.get("Vary") or "").split(",")}
    assert vary >= VARY, response.get("Vary")


def credentialed(api: APIClient, world: World, credential: str) -> dict[str, str]:
    """Request headers for acme's admin: a bearer token, or a portal session on acme's host."""
    if credential == "token":
        return world.acme.auth("admin")
    from apps.accounts.models import User

    api.force_login(User.objects.get(email="admin@acme.example"))
    return {"HTTP_HOST": world.acme.host}


def test_every_get_route_has_a_case():
    site = set(url_patterns(TENANT_URLCONF)) - api_patterns(TENANT_URLCONF)
    platform = set(url_patterns(PUBLIC_URLCONF)) - api_patterns(PUBLIC_URLCONF)

    assert get_patterns(TENANT_URLCONF) == set(OWN_GET_PATHS)
    assert site == set(SITE_PATHS)
    assert {route for route in platform if not route.startswith("admin/")} == set(PLATFORM_PATHS)
    assert api_patterns(PUBLIC_URLCONF) == api_patterns(TENANT_URLCONF)


@pytest.mark.parametrize("credential", CREDENTIALS)
@pytest.mark.parametrize("pattern", sorted(OWN_GET_PATHS))
def test_every_get_route_answers_privately(acme_objects, world, api, pattern, credential):
    headers = credentialed(api, world, credential)
    path = OWN_GET_PATHS[pattern](acme_objects)

    response = api.get(path, **headers)

    assert response.status_code == OWN_GET_STATUS.get(pattern, 200), response.content[:300]
    assert_private(response)
    if response.has_header("ETag"):
        again = api.get(path, HTTP_IF_NONE_MATCH=response["ETag"], **headers)
        assert again.status_code == 304
        assert (again["ETag"], again["Cache-Control"]) == (response["ETag"], response["Cache-Control"])
        assert_private(again)


# Files and other formats of GET routes: exports and scenario outputs were once `public`.
FORMAT_PATHS = {
    "v1 curves csv": lambda o: f"/api/v1/curves?curve_key={o.curve_key}&format=csv",
    "v1 outputs csv": lambda o: f"/api/v1/scenarios/{o.scenario_id}/outputs?format=csv",
    "v2 outputs csv": lambda o: f"/api/v2/scenario-runs/{o.run_id}/outputs?format=csv",
    "v2 outputs parquet": lambda o: f"/api/v2/scenario-runs/{o.run_id}/outputs?format=parquet",
    "export parquet": lambda o: f"/api/v2/curves/export?curve_key={o.curve_key}&format=parquet",
    "export xlsx": lambda o: f"/api/v2/curves/export?curve_key={o.curve_key}&format=xlsx",
}


@pytest.mark.parametrize("credential", CREDENTIALS)
@pytest.mark.parametrize("name", sorted(FORMAT_PATHS))
def test_every_format_answers_privately(acme_objects, world, api, name, credential):
    response = api.get(FORMAT_PATHS[name](acme_objects), **credentialed(api, world, credential))

    assert response.status_code == 200
    assert response["Content-Type"] != "application/json"
    assert_private(response)


@pytest.mark.parametrize("credential", CREDENTIALS)
@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.method == "get" and "<" in r.pattern], ids=lambda r: r.pattern
)
def test_an_object_the_caller_cannot_see_is_a_private_404(world, api, route, credential):
    response = api.get(route.path(world), **credentialed(api, world, credential))

    assert response.status_code == 404
    assert_private(response)


@pytest.mark.parametrize("pattern", sorted(OWN_GET_PATHS))
def test_no_credential_on_a_tenants_host_is_answered_privately(acme_objects, world, api, pattern):
    response = api.get(OWN_GET_PATHS[pattern](acme_objects), HTTP_HOST=world.acme.host)

    # The API refuses; the documentation is the same for everyone, on a host that names a tenant.
    assert response.status_code == (200 if pattern in DOCS_ROUTES else 401)
    assert_private(response)


@pytest.mark.parametrize("credential", CREDENTIALS)
@pytest.mark.parametrize("pattern", sorted(SITE_PATHS))
def test_every_site_route_on_a_tenants_host_is_private(world, api, pattern, credential):
    headers = credentialed(api, world, credential)

    response = api.get(SITE_PATHS[pattern], **{"HTTP_HOST": world.acme.host, **headers})

    assert response.status_code in (200, 302, 404, 405, 503)
    assert_private(response)


@pytest.mark.parametrize("pattern", sorted(SITE_PATHS))
def test_the_site_without_a_credential_is_never_public(world, api, pattern):
    response = api.get(SITE_PATHS[pattern], HTTP_HOST=world.acme.host)

    assert_never_public(response)
    if not pattern.startswith(TENANTLESS) and pattern not in ORIGINAL_PROBES:
        assert_private(response)  # the tenant's own pages (sign-in): its name, its form


@pytest.mark.parametrize("path", [*PLATFORM_PATHS.values(), "/api/v2/schema/", "/api/v2/docs/"])
def test_the_platform_hosts_open_routes_are_never_public(world, api, path):
    anonymous = api.get(path)
    with_token = api.get(path, **world.acme.auth("admin"))

    assert_never_public(anonymous)
    assert_private(with_token)


@pytest.mark.parametrize("pattern", sorted(OWN_GET_PATHS))
def test_the_api_on_the_platform_host_without_a_credential_is_never_public(acme_objects, world, api, pattern):
    path = OWN_GET_PATHS[pattern](acme_objects)

    refused = api.get(path)

    assert refused.status_code == (200 if pattern in DOCS_ROUTES else 401)
    assert_never_public(refused)


# The admin's index, sign-in and each model's list (the admin wraps every view in never_cache).
ADMIN_PATHS = ["/admin/", "/admin/login/"] + [
    f"/{route}" for route in sorted(url_patterns(PUBLIC_URLCONF)) if re.fullmatch(r"admin/\w+/\w+/", route)
]


def test_every_admin_page_is_private(world, api):
    from apps.accounts.models import User

    api.force_login(User.objects.get(email=world.staff_email))

    for path in ADMIN_PATHS:
        response = api.get(path)
        assert response.status_code in (200, 302), path
        assert_private(response)
