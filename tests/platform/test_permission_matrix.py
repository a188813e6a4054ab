"""The permission matrix: which permission every API route and method needs, declared here as the
specification, and checked for every role, for a token whose scopes leave the permission out, and for no
credential at all.

The table is written from the product rules, not read from the views: the roles and what they grant
(apps/accounts/roles.py, the original Aurum's RBAC, spec 3.1, pinned by tests/platform/test_roles.py) and the
rules docs/api.md states per area — curves and everything market data (curve reads, lineage, ingest runs,
fundamentals feeds, the watchlist and its notices) need ``curves:read``; loading a vendor workbook
``curves:write`` in an operator tenant; scenarios and PPA contracts ``scenarios:read`` / ``write`` /
``delete``, running or valuing ``scenarios:run``; tokens ``tokens:own`` or ``tokens:manage``; members and
invitations and the tenant's SSO ``members:manage``; exporting the tenant ``tenant:export``; usage
``usage:read``; webhooks ``webhooks:manage``; the audit ledger ``audit:read``; who-am-I and the shared
reference catalogs (locations, units, calendars) any member; accepting an invitation and the API's
documentation anyone.

"Allowed" is any answer but 401 and 403 (a 404 for a globex object, a 400 for a harmless body, a 409 for the
last admin are all fine). Each case runs in the test's transaction, rolled back: mutations leave nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from apps.accounts.models import Membership
from apps.accounts.roles import role_permissions
from apps.accounts.services import api_token_create
from tests.support.acme import AcmeObjects
from tests.support.routes import OWN_GET_PATHS, ROUTES, api_patterns, canonical_pattern
from tests.support.world import World

ANY_MEMBER = "any member"
ANONYMOUS = "anonymous"
CURVES_READ = "curves:read"
SCEN_READ, SCEN_WRITE, SCEN_DELETE, SCEN_RUN = (
    "scenarios:read",
    "scenarios:write",
    "scenarios:delete",
    "scenarios:run",
)
TOKENS = "tokens:own|tokens:manage"  # either one
MEMBERS = "members:manage"
WEBHOOKS = "webhooks:manage"
AUDIT = "audit:read"
ADMIN_READ = "admin:read"
EXPORT = "tenant:export"
ROLES = ("viewer", "analyst", "trader", "admin")

_V1_FEEDS = (
    "iso/lmp/last-24h",
    "iso/lmp/hourly",
    "iso/lmp/daily",
    "iso/lmp/negative",
    "metadata/eia/datasets",
    "metadata/eia/datasets/<path:dataset_path>",
    "ref/eia/series",
    "ref/eia/series/dimensions",
    "external/providers",
    "external/series",
    "external/series/<str:series_id>/observations",
    "metadata/external",
    "drought/dimensions",
    "drought/indices",
    "drought/usdm",
    "drought/info/<str:dataset>/<str:index>/<str:timescale>",
    "drought/tiles/<str:dataset>/<str:index>/<str:timescale>/<int:z>/<int:x>/<int:y>.png",
)
_V2_FEEDS = (
    "series",
    "series/<str:series_id>",
    "series/<str:series_id>/observations",
    "iso/lmp",
    "iso/lmp/aggregates",
    "eia/datasets",
    "eia/datasets/<path:dataset_path>",
    "drought/usdm",
    "drought/indices",
)
_REFERENCE = (
    "metadata/locations",
    "metadata/locations/<str:iso>/<str:location_id>",
    "metadata/units",
    "metadata/units/mapping",
    "metadata/calendars",
    "metadata/calendars/<str:name>/blocks",
    "metadata/calendars/<str:name>/hours",
    "metadata/calendars/<str:name>/expand",
)
_CURVE_READS_V1 = ("curves", "curves/diff", "curves/strips", "metadata/dimensions")
_CURVE_READS_V2 = (
    "curves",
    "curves/diff",
    "curves/strips",
    "curves/movers",
    "curves/export",
    "curves/<str:curve_key>",
    "curves/<str:curve_key>/history",
    "curves/<str:curve_key>/lineage",
    "metadata/dimensions",
    "ingest/runs",
    "ingest/runs/<int:run_id>",
    "watchlist",
)

# (route, method) -> what it needs: a permission, alternatives joined by "|", ANY_MEMBER or ANONYMOUS.
NEEDS: dict[tuple[str, str], str] = {
    ("api/v2/me", "get"): ANY_MEMBER,
    ("api/v2/tokens", "get"): TOKENS,
    ("api/v2/tokens", "post"): TOKENS,
    ("api/v2/tokens/<int:token_id>", "get"): TOKENS,
    ("api/v2/tokens/<int:token_id>", "delete"): TOKENS,
    ("api/v2/members", "get"): MEMBERS,
    ("api/v2/members/<int:membership_id>", "get"): MEMBERS,
    ("api/v2/members/<int:membership_id>", "patch"): MEMBERS,
    ("api/v2/members/<int:membership_id>", "delete"): MEMBERS,
    ("api/v2/invitations", "get"): MEMBERS,
    ("api/v2/invitations", "post"): MEMBERS,
    ("api/v2/invitations/<int:invitation_id>", "delete"): MEMBERS,
    ("api/v2/invitations/accept", "post"): ANONYMOUS,
    # the tenant's single sign-on is part of managing who its members are (docs/sso.md)
    ("api/v2/sso", "get"): MEMBERS,
    ("api/v2/sso", "put"): MEMBERS,
    # exporting the whole tenant (docs/api.md "Tenant export"): admins
    ("api/v2/exports", "get"): EXPORT,
    ("api/v2/exports", "post"): EXPORT,
    ("api/v2/exports/<str:export_id>", "get"): EXPORT,
    ("api/v2/exports/<str:export_id>/download", "get"): EXPORT,
    # market data
    **{("api/v1/" + route, "get"): CURVES_READ for route in (*_CURVE_READS_V1, *_V1_FEEDS)},
    **{("api/v2/" + route, "get"): CURVES_READ for route in (*_CURVE_READS_V2, *_V2_FEEDS)},
    ("api/v2/ingest/runs", "post"): "curves:write",  # in an operator tenant (OPERATOR_ONLY)
    # dataset contracts and their freshness are market data; backfills and the review of quarantined feed
    # rows are the operators' loading work (docs/datasets.md): any operator member reads them, starting,
    # retrying, cancelling, releasing or rejecting loads data like an upload
    ("api/v2/datasets", "get"): CURVES_READ,
    ("api/v2/datasets/<path:dataset_id>", "get"): CURVES_READ,
    ("api/v2/backfills", "get"): CURVES_READ,
    ("api/v2/backfills", "post"): "curves:write",
    ("api/v2/backfills/<int:backfill_id>", "get"): CURVES_READ,
    ("api/v2/backfills/<int:backfill_id>/retry", "post"): "curves:write",
    ("api/v2/backfills/<int:backfill_id>/cancel", "post"): "curves:write",
    ("api/v2/feeds/quarantine", "get"): CURVES_READ,
    ("api/v2/ingest/quarantine", "get"): CURVES_READ,
    # series-curve mappings: shared market metadata every member with curves:read reads; the operators
    # (curves:write in an operator tenant) create, change and deactivate them
    ("api/v1/admin/mappings", "get"): CURVES_READ,
    ("api/v1/admin/mappings", "post"): "curves:write",
    ("api/v1/admin/mappings/search", "get"): CURVES_READ,
    ("api/v1/admin/mappings/<str:provider>/<str:series_id>", "put"): "curves:write",
    ("api/v1/admin/mappings/<str:provider>/<str:series_id>", "delete"): "curves:write",
    ("api/v2/series-curve-mappings", "get"): CURVES_READ,
    ("api/v2/series-curve-mappings", "post"): "curves:write",
    ("api/v2/series-curve-mappings/<int:mapping_id>", "put"): "curves:write",
    ("api/v2/series-curve-mappings/<int:mapping_id>", "delete"): "curves:write",
    ("api/v2/series-mapping-suggestions", "get"): CURVES_READ,
    ("api/v2/feeds/quarantine/<int:row_id>/release", "post"): "curves:write",
    ("api/v2/feeds/quarantine/<int:row_id>/reject", "post"): "curves:write",
    ("api/v2/ingest/quarantine/release", "post"): "curves:write",
    ("api/v2/ingest/quarantine/reject", "post"): "curves:write",
    ("api/v2/ingest/quarantine/<int:row_id>/release", "post"): "curves:write",
    ("api/v2/ingest/quarantine/<int:row_id>/reject", "post"): "curves:write",
    ("api/v2/watchlist", "post"): CURVES_READ,
    ("api/v2/watchlist/<str:curve_key>", "get"): CURVES_READ,
    ("api/v2/watchlist/<str:curve_key>", "patch"): CURVES_READ,
    ("api/v2/watchlist/<str:curve_key>", "delete"): CURVES_READ,
    ("api/v2/notices", "get"): CURVES_READ,
    ("api/v2/notices/read", "post"): CURVES_READ,
    ("api/v2/notices/<str:notice_id>", "get"): CURVES_READ,
    # shared reference catalogs
    **{(version + route, "get"): ANY_MEMBER for version in ("api/v1/", "api/v2/") for route in _REFERENCE},
    # PPA contracts and valuations
    **{
        (version + "ppa/contracts", method): need
        for version in ("api/v1/", "api/v2/")
        for method, need in (("get", SCEN_READ), ("post", SCEN_WRITE))
    },
    **{
        (version + "ppa/contracts/<str:contract_id>", method): need
        for version in ("api/v1/", "api/v2/")
        for method, need in (("get", SCEN_READ), ("patch", SCEN_WRITE), ("delete", SCEN_DELETE))
    },
    ("api/v1/ppa/contracts/<str:contract_id>/valuations", "get"): SCEN_READ,
    ("api/v1/ppa/valuate", "post"): SCEN_RUN,
    ("api/v2/ppa/contracts/<str:contract_id>/valuations", "get"): SCEN_READ,
    ("api/v2/ppa/contracts/<str:contract_id>/valuations", "post"): SCEN_RUN,
    ("api/v2/ppa/contracts/<str:contract_id>/valuations/<str:valuation_id>", "get"): SCEN_READ,
    # scenarios and runs
    ("api/v1/scenarios", "get"): SCEN_READ,
    ("api/v1/scenarios", "post"): SCEN_WRITE,
    ("api/v1/scenarios/<str:scenario_id>", "get"): SCEN_READ,
    ("api/v1/scenarios/<str:scenario_id>", "delete"): SCEN_DELETE,
    ("api/v1/scenarios/<str:scenario_id>/run", "post"): SCEN_RUN,
    ("api/v1/scenarios/<str:scenario_id>/runs", "get"): SCEN_READ,
    ("api/v1/scenarios/<str:scenario_id>/runs:bulk", "post"): SCEN_RUN,
    ("api/v1/scenarios/<str:scenario_id>/runs/<str:run_id>", "get"): SCEN_READ,
    ("api/v1/scenarios/runs/<str:run_id>/cancel", "post"): SCEN_RUN,
    # the original v1 admin paths (the state change needs scenarios:write as well: test_v1_admin_paths.py)
    ("api/v1/scenarios/runs/<str:run_id>/state", "post"): ADMIN_READ,
    ("api/v1/admin/cache/scenario/<str:scenario_id>/invalidate", "post"): ADMIN_READ,
    ("api/v1/scenarios/<str:scenario_id>/outputs", "get"): SCEN_READ,
    ("api/v1/scenarios/<str:scenario_id>/metrics/latest", "get"): SCEN_READ,
    ("api/v2/scenarios", "get"): SCEN_READ,
    ("api/v2/scenarios", "post"): SCEN_WRITE,
    ("api/v2/scenarios/<str:scenario_id>", "get"): SCEN_READ,
    ("api/v2/scenarios/<str:scenario_id>", "patch"): SCEN_WRITE,
    ("api/v2/scenarios/<str:scenario_id>", "delete"): SCEN_DELETE,
    ("api/v2/scenarios/<str:scenario_id>/runs", "get"): SCEN_READ,
    ("api/v2/scenarios/<str:scenario_id>/runs", "post"): SCEN_RUN,
    ("api/v2/scenario-runs/<str:run_id>", "get"): SCEN_READ,
    ("api/v2/scenario-runs/<str:run_id>/cancel", "post"): SCEN_RUN,
    ("api/v2/scenario-runs/<str:run_id>/outputs", "get"): SCEN_READ,
    ("api/v2/scenario-runs/<str:run_id>/compare", "get"): SCEN_READ,
    # the tenant's administration
    ("api/v2/usage", "get"): "usage:read",
    ("api/v2/webhooks", "get"): WEBHOOKS,
    ("api/v2/webhooks", "post"): WEBHOOKS,
    ("api/v2/webhooks/<str:endpoint_id>", "get"): WEBHOOKS,
    ("api/v2/webhooks/<str:endpoint_id>", "patch"): WEBHOOKS,
    ("api/v2/webhooks/<str:endpoint_id>", "delete"): WEBHOOKS,
    ("api/v2/webhooks/<str:endpoint_id>/rotate-secret", "post"): WEBHOOKS,
    ("api/v2/webhooks/<str:endpoint_id>/ping", "post"): WEBHOOKS,
    ("api/v2/webhooks/<str:endpoint_id>/enable", "post"): WEBHOOKS,
    ("api/v2/webhooks/<str:endpoint_id>/deliveries", "get"): WEBHOOKS,
    ("api/v2/webhooks/<str:endpoint_id>/deliveries/<str:delivery_id>/redeliver", "post"): WEBHOOKS,
    ("api/v2/webhooks/<str:endpoint_id>/events", "get"): WEBHOOKS,
    ("api/v2/audit", "get"): AUDIT,
    ("api/v2/audit/export", "get"): AUDIT,
    # the API's documentation
    ("api/v2/schema/", "get"): ANONYMOUS,
    ("api/v2/docs/", "get"): ANONYMOUS,
}
# Routes only an operator tenant's members may use at all: their cases run in ops.
OPERATOR_ONLY = {
    ("api/v2/ingest/runs", "post"),
    *(key for key, need in NEEDS.items() if "backfills" in key[0] or "quarantine" in key[0]),
    *(key for key, need in NEEDS.items() if need == "curves:write" and "mappings" in key[0]),
}


def _need(pattern: str, method: str) -> str:
    return NEEDS[(canonical_pattern(pattern), method)]


def _routes_with_methods() -> set[tuple[str, str]]:
    """Every (route, method) of the tenant URLconf's API (the original's v1/ paths too)."""
    from tests.support.routes import TENANT_URLCONF, url_patterns, view_methods

    views = url_patterns(TENANT_URLCONF)
    return {
        (pattern, method)
        for pattern in api_patterns()
        for method in (view_methods(views[pattern]) or {"get"})
    }


CASES = sorted(_routes_with_methods())
_ROUTE_CASES = {(route.pattern, route.method): route for route in ROUTES}


def _request(api: Any, world: World, objects: AcmeObjects, pattern: str, method: str, **extra: Any) -> Any:
    """One request of the case. A read names the caller's own object (acme's, from OWN_GET_PATHS); a write
    takes the isolation suite's path and body: globex's object (a 404 once the permission is granted) or a
    harmless new one, so no write reaches the lakehouse, which the test's rollback would not undo."""
    route = _ROUTE_CASES.get((pattern, method))
    if method == "get" and pattern in OWN_GET_PATHS:
        path = OWN_GET_PATHS[pattern](objects)
    else:
        assert route is not None, f"{method} {pattern} has no case in tests/support/routes.py"
        path = route.path(world)
    body = route.body if route is not None else None
    return getattr(api, method)(path, body, format="json", **extra)


def _tenant(world: World, pattern: str, method: str) -> Any:
    return world.ops if (canonical_pattern(pattern), method) in OPERATOR_ONLY else world.acme


def test_the_table_covers_exactly_the_routes_of_the_urlconf():
    declared = set(NEEDS)
    served = {(canonical_pattern(pattern), method) for pattern, method in CASES}

    assert served - declared == set(), "routes without a declared permission"
    assert declared - served == set(), "declared routes the URLconf does not serve"


def test_the_table_names_only_real_permissions():
    granted = role_permissions("admin")
    named = {p for need in NEEDS.values() if need not in (ANY_MEMBER, ANONYMOUS) for p in need.split("|")}

    assert named <= granted


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("pattern", "method"), CASES, ids=[f"{m} {p}" for p, m in CASES])
def test_each_role_is_refused_exactly_what_it_lacks(acme_objects, world, api, pattern, method, role):
    need = _need(pattern, method)
    tenant = _tenant(world, pattern, method)

    response = _request(api, world, acme_objects, pattern, method, **tenant.auth(role))

    if need in (ANY_MEMBER, ANONYMOUS) or set(need.split("|")) & role_permissions(role):
        assert response.status_code not in (401, 403), response.content[:300]
    else:
        assert response.status_code == 403, response.content[:300]


@pytest.mark.parametrize(("pattern", "method"), CASES, ids=[f"{m} {p}" for p, m in CASES])
def test_a_token_without_the_scope_is_refused_though_its_role_has_it(
    acme_objects, world, api, pattern, method
):
    need = _need(pattern, method)
    tenant = _tenant(world, pattern, method)
    admin = Membership.objects.get(pk=tenant.members["admin"].membership_id)
    if need in (ANY_MEMBER, ANONYMOUS):
        # Given a token with one unrelated scope, when it calls a route any member may use, then it may.
        scopes = ["audit:read"]
    else:
        scopes = sorted(role_permissions("admin") - set(need.split("|")))
    _, raw = api_token_create(membership=admin, name="narrow", scopes=scopes)

    response = _request(api, world, acme_objects, pattern, method, HTTP_AUTHORIZATION=f"Bearer {raw}")

    if need in (ANY_MEMBER, ANONYMOUS):
        assert response.status_code not in (401, 403), response.content[:300]
    else:
        assert response.status_code == 403, response.content[:300]


@pytest.mark.parametrize(("pattern", "method"), CASES, ids=[f"{m} {p}" for p, m in CASES])
def test_no_credential_is_401_except_where_anyone_may_ask(acme_objects, world, api, pattern, method):
    tenant = _tenant(world, pattern, method)

    response = _request(
        api, world, acme_objects, pattern, method, HTTP_HOST=tenant.host, REMOTE_ADDR="192.0.2.200"
    )

    if _need(pattern, method) == ANONYMOUS:
        assert response.status_code not in (401, 403), response.content[:300]
    else:
        assert response.status_code == 401, response.content[:300]
