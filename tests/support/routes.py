"""Every route of the tenant URLconf, for the suites that run over all of them (isolation, caching headers,
list routes).

``ROUTES`` names each API route and method with a path naming an object of globex (the victim of the
isolation suite) where the route takes one; ``OWN_GET_PATHS`` names each GET route with a path naming acme's
own object (``tests.support.acme``), so the caller gets 200. ``url_patterns``, ``api_patterns`` and
``get_patterns`` walk a URLconf, so a suite fails when a route has no case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.urls import URLPattern, URLResolver, get_resolver

from apps.accounts.selectors import INVITATION_SALT
from tests.support.acme import ASOF_A, ASOF_B, BLOCK, CALENDAR, LOCATION, AcmeObjects
from tests.support.routes_feeds import FEED_GET_PATHS, FEED_ROUTES, MAPPING_ROUTES, OWN_GET_STATUS
from tests.support.world import World

TENANT_URLCONF = "aurum.urls_tenant"
PUBLIC_URLCONF = "aurum.urls_public"


@dataclass(frozen=True)
class Route:
    pattern: str
    method: str
    path: Callable[[World], str]  # a path naming an object of globex (the victim), where the route takes one
    body: dict[str, Any] | None = None
    allowed: tuple[int, ...] = (200, 201)  # what acme's admin may get on a route that names no object


# Ingest runs are shared market data: an object acme may not see is a run of a dataset it is not licensed for.
UNLICENSED_RUN_ID = 999_001
UNLICENSED_CURVE_KEY = "f" * 64
# A PPA contract of globex's and one valuation of it, created in globex's schema by _globex_ppa.
GLOBEX_PPA = "6a0b8f1e-0000-4000-8000-00000000a001"
GLOBEX_PPA_VALUATION = "6a0b8f1e-0000-4000-8000-00000000a002"
PPA_TERMS = {"counterparty": "Acme Solar", "price_usd_mwh": 40.0, "volume_mwh": 10.0}
# A scenario of globex's and a (succeeded) run of it, created in globex's schema by _globex_scenario.
GLOBEX_SCENARIO = "7b1c9f2e-0000-4000-8000-00000000b001"
GLOBEX_RUN = "7b1c9f2e-0000-4000-8000-00000000b002"
# A curve globex's admin follows and a notice of theirs, created in globex's schema by _globex_watchlist.
GLOBEX_FOLLOWED_KEY = "9" * 64
GLOBEX_NOTICE = 999_003
# A webhook endpoint of globex's and one delivery attempt of it, created in its schema by _globex_webhook.
GLOBEX_WEBHOOK = "8c2d0a3f-0000-4000-8000-00000000d001"
GLOBEX_WEBHOOK_DELIVERY = 999_004
# An export of globex's (a row only: the suites never reach its file), created by _globex_export.
GLOBEX_EXPORT = "5e1f7a2b-0000-4000-8000-00000000e001"
# A backfill (the operators'); acme is no operator tenant: it sees none. Created by _ops_backfill.
OPS_BACKFILL = 999_007
# A quarantined feed row (the operators' to review), created by _ops_backfill too.
HELD_FEED_ROW = 999_008
# A quarantined vendor row (the operators' to review), created by _ops_backfill too.
HELD_VENDOR_ROW = 999_009
BACKFILL_BODY = {"dataset": "feed:fred:DGS10", "from": "2024-04-29", "to": "2024-05-03", "dry_run": True}
WEBHOOK_BODY = {"url": "http://127.0.0.1:9/hook", "events": ["scenario.run.succeeded"]}
# An open invitation of globex's (created in the public schema by _globex_invitation) and its link's token.
GLOBEX_INVITATION = 999_005
GLOBEX_INVITATION_EMAIL = "invitee@globex.example"
GLOBEX_INVITATION_TOKEN = signing.dumps(GLOBEX_INVITATION, salt=INVITATION_SALT)


ROUTES = [
    Route("api/v2/me", "get", lambda w: "/api/v2/me"),
    Route("api/v2/tokens", "get", lambda w: "/api/v2/tokens"),
    Route("api/v2/tokens", "post", lambda w: "/api/v2/tokens", {"name": "intruder"}),
    Route(
        "api/v2/tokens/<int:token_id>",
        "get",
        lambda w: f"/api/v2/tokens/{w.globex.members['admin'].token_id}",
    ),
    Route(
        "api/v2/tokens/<int:token_id>",
        "delete",
        lambda w: f"/api/v2/tokens/{w.globex.members['admin'].token_id}",
    ),
    Route("api/v2/members", "get", lambda w: "/api/v2/members"),
    Route("api/v2/sso", "get", lambda w: "/api/v2/sso"),
    Route(
        "api/v2/sso",
        "put",
        lambda w: "/api/v2/sso",
        {"issuer": "https://login.acme.example/realms/acme", "client_id": "aurum-portal"},
    ),
    Route(
        "api/v2/members/<int:membership_id>",
        "get",
        lambda w: f"/api/v2/members/{w.globex.members['admin'].membership_id}",
    ),
    Route(
        "api/v2/members/<int:membership_id>",
        "patch",
        lambda w: f"/api/v2/members/{w.globex.members['admin'].membership_id}",
        {"role": "viewer"},
    ),
    Route(
        "api/v2/members/<int:membership_id>",
        "delete",
        lambda w: f"/api/v2/members/{w.globex.members['viewer'].membership_id}",
    ),
    Route("api/v2/invitations", "get", lambda w: "/api/v2/invitations"),
    Route(
        "api/v2/invitations",
        "post",
        lambda w: "/api/v2/invitations",
        {"email": "intruder@example.com", "role": "viewer"},
        allowed=(201,),
    ),
    Route(
        "api/v2/invitations/<int:invitation_id>",
        "delete",
        lambda w: f"/api/v2/invitations/{GLOBEX_INVITATION}",
    ),
    # Globex's invitation token on acme's host: no such invitation here. (A password too weak to create the
    # invitee: on globex's own host the link is valid for anyone, so the answer there is a 400.)
    Route(
        "api/v2/invitations/accept",
        "post",
        lambda w: "/api/v2/invitations/accept",
        {"token": GLOBEX_INVITATION_TOKEN, "password": "x"},
        allowed=(404,),
    ),
    Route("api/v2/ingest/runs", "get", lambda w: "/api/v2/ingest/runs"),
    Route("api/v2/ingest/runs", "post", lambda w: "/api/v2/ingest/runs", {"file": "x"}, allowed=(403,)),
    Route("api/v2/ingest/runs/<int:run_id>", "get", lambda w: f"/api/v2/ingest/runs/{UNLICENSED_RUN_ID}"),
    # Dataset contracts and freshness (licensed like the data); backfills (the platform operators' only).
    Route("api/v2/datasets", "get", lambda w: "/api/v2/datasets"),
    Route("api/v2/datasets/<path:dataset_id>", "get", lambda w: "/api/v2/datasets/vendor:XYZ"),
    Route("api/v2/backfills", "get", lambda w: "/api/v2/backfills", allowed=(403,)),
    Route("api/v2/backfills", "post", lambda w: "/api/v2/backfills", BACKFILL_BODY, allowed=(403,)),
    Route("api/v2/backfills/<int:backfill_id>", "get", lambda w: f"/api/v2/backfills/{OPS_BACKFILL}"),
    Route(
        "api/v2/backfills/<int:backfill_id>/retry",
        "post",
        lambda w: f"/api/v2/backfills/{OPS_BACKFILL}/retry",
    ),
    Route("api/v2/feeds/quarantine", "get", lambda w: "/api/v2/feeds/quarantine", allowed=(403,)),
    Route(
        "api/v2/feeds/quarantine/<int:row_id>/release",
        "post",
        lambda w: f"/api/v2/feeds/quarantine/{HELD_FEED_ROW}/release",
    ),
    Route(
        "api/v2/feeds/quarantine/<int:row_id>/reject",
        "post",
        lambda w: f"/api/v2/feeds/quarantine/{HELD_FEED_ROW}/reject",
    ),
    Route("api/v2/ingest/quarantine", "get", lambda w: "/api/v2/ingest/quarantine", allowed=(403,)),
    Route(
        "api/v2/ingest/quarantine/<int:row_id>/release",
        "post",
        lambda w: f"/api/v2/ingest/quarantine/{HELD_VENDOR_ROW}/release",
    ),
    Route(
        "api/v2/ingest/quarantine/<int:row_id>/reject",
        "post",
        lambda w: f"/api/v2/ingest/quarantine/{HELD_VENDOR_ROW}/reject",
    ),
    Route(
        "api/v2/ingest/quarantine/release",
        "post",
        lambda w: "/api/v2/ingest/quarantine/release",
        allowed=(403,),
    ),
    Route(
        "api/v2/ingest/quarantine/reject",
        "post",
        lambda w: "/api/v2/ingest/quarantine/reject",
        allowed=(403,),
    ),
    Route(
        "api/v2/backfills/<int:backfill_id>/cancel",
        "post",
        lambda w: f"/api/v2/backfills/{OPS_BACKFILL}/cancel",
    ),
    Route(
        "api/v2/curves/<str:curve_key>/lineage",
        "get",
        lambda w: f"/api/v2/curves/{UNLICENSED_CURVE_KEY}/lineage?tenor_label=2025-09",
    ),
    # Curve reads: market data filtered by the caller's licences (tests/curves covers what each tenant sees).
    Route("api/v1/curves", "get", lambda w: "/api/v1/curves"),
    Route(
        "api/v1/curves/diff", "get", lambda w: "/api/v1/curves/diff?asof_a=2025-07-01&asof_b=2025-07-02&iso=X"
    ),
    Route("api/v1/curves/strips", "get", lambda w: "/api/v1/curves/strips?type=CALENDAR"),
    Route("api/v1/metadata/dimensions", "get", lambda w: "/api/v1/metadata/dimensions"),
    Route("api/v2/curves", "get", lambda w: "/api/v2/curves"),
    Route(
        "api/v2/curves/diff", "get", lambda w: "/api/v2/curves/diff?asof_a=2025-07-01&asof_b=2025-07-02&iso=X"
    ),
    Route("api/v2/curves/strips", "get", lambda w: "/api/v2/curves/strips?type=CALENDAR"),
    Route(
        "api/v2/curves/movers", "get", lambda w: "/api/v2/curves/movers?asof_a=2025-07-01&asof_b=2025-07-02"
    ),
    Route("api/v2/curves/export", "get", lambda w: "/api/v2/curves/export?iso=X"),
    Route("api/v2/curves/<str:curve_key>", "get", lambda w: f"/api/v2/curves/{UNLICENSED_CURVE_KEY}"),
    Route(
        "api/v2/curves/<str:curve_key>/history",
        "get",
        lambda w: f"/api/v2/curves/{UNLICENSED_CURVE_KEY}/history?tenor_label=2025-09",
    ),
    Route("api/v2/metadata/dimensions", "get", lambda w: "/api/v2/metadata/dimensions"),
    Route("api/v2/metadata/locations", "get", lambda w: "/api/v2/metadata/locations"),
    Route(
        "api/v2/metadata/locations/<str:iso>/<str:location_id>",
        "get",
        lambda w: "/api/v2/metadata/locations/PJM/NO_SUCH_NODE",
    ),
    Route("api/v2/metadata/units", "get", lambda w: "/api/v2/metadata/units"),
    Route("api/v2/metadata/units/mapping", "get", lambda w: "/api/v2/metadata/units/mapping"),
    Route("api/v2/metadata/calendars", "get", lambda w: "/api/v2/metadata/calendars"),
    Route(
        "api/v2/metadata/calendars/<str:name>/blocks", "get", lambda w: "/api/v2/metadata/calendars/x/blocks"
    ),
    Route(
        "api/v2/metadata/calendars/<str:name>/hours", "get", lambda w: "/api/v2/metadata/calendars/x/hours"
    ),
    Route(
        "api/v2/metadata/calendars/<str:name>/expand", "get", lambda w: "/api/v2/metadata/calendars/x/expand"
    ),
    # Shared reference data: nothing tenant-owned to leak; the routes still need a member's credential.
    Route("api/v1/metadata/locations", "get", lambda w: "/api/v1/metadata/locations"),
    Route(
        "api/v1/metadata/locations/<str:iso>/<str:location_id>",
        "get",
        lambda w: "/api/v1/metadata/locations/PJM/NO_SUCH_NODE",
    ),
    Route("api/v1/metadata/units", "get", lambda w: "/api/v1/metadata/units"),
    Route("api/v1/metadata/units/mapping", "get", lambda w: "/api/v1/metadata/units/mapping"),
    Route("api/v1/metadata/calendars", "get", lambda w: "/api/v1/metadata/calendars"),
    Route(
        "api/v1/metadata/calendars/<str:name>/blocks", "get", lambda w: "/api/v1/metadata/calendars/x/blocks"
    ),
    Route(
        "api/v1/metadata/calendars/<str:name>/hours", "get", lambda w: "/api/v1/metadata/calendars/x/hours"
    ),
    Route(
        "api/v1/metadata/calendars/<str:name>/expand", "get", lambda w: "/api/v1/metadata/calendars/x/expand"
    ),
    # PPA contracts and valuations (tenant schema): globex's contract and valuation exist (_globex_ppa).
    Route("api/v1/ppa/contracts", "get", lambda w: "/api/v1/ppa/contracts"),
    Route("api/v1/ppa/contracts", "post", lambda w: "/api/v1/ppa/contracts", {"terms": PPA_TERMS}),
    Route("api/v1/ppa/contracts/<str:contract_id>", "get", lambda w: f"/api/v1/ppa/contracts/{GLOBEX_PPA}"),
    Route(
        "api/v1/ppa/contracts/<str:contract_id>",
        "patch",
        lambda w: f"/api/v1/ppa/contracts/{GLOBEX_PPA}",
        {"instrument_id": "stolen"},
    ),
    Route(
        "api/v1/ppa/contracts/<str:contract_id>", "delete", lambda w: f"/api/v1/ppa/contracts/{GLOBEX_PPA}"
    ),
    Route(
        "api/v1/ppa/contracts/<str:contract_id>/valuations",
        "get",
        lambda w: f"/api/v1/ppa/contracts/{GLOBEX_PPA}/valuations",
    ),
    Route(
        "api/v1/ppa/valuate",
        "post",
        lambda w: "/api/v1/ppa/valuate",
        {"ppa_contract_id": GLOBEX_PPA, "scenario_id": GLOBEX_PPA},
        allowed=(404,),
    ),
    Route("api/v2/ppa/contracts", "get", lambda w: "/api/v2/ppa/contracts"),
    Route("api/v2/ppa/contracts", "post", lambda w: "/api/v2/ppa/contracts", {"terms": PPA_TERMS}),
    Route("api/v2/ppa/contracts/<str:contract_id>", "get", lambda w: f"/api/v2/ppa/contracts/{GLOBEX_PPA}"),
    Route(
        "api/v2/ppa/contracts/<str:contract_id>",
        "patch",
        lambda w: f"/api/v2/ppa/contracts/{GLOBEX_PPA}",
        {"instrument_id": "stolen"},
    ),
    Route(
        "api/v2/ppa/contracts/<str:contract_id>", "delete", lambda w: f"/api/v2/ppa/contracts/{GLOBEX_PPA}"
    ),
    Route(
        "api/v2/ppa/contracts/<str:contract_id>/valuations",
        "get",
        lambda w: f"/api/v2/ppa/contracts/{GLOBEX_PPA}/valuations",
    ),
    Route(
        "api/v2/ppa/contracts/<str:contract_id>/valuations",
        "post",
        lambda w: f"/api/v2/ppa/contracts/{GLOBEX_PPA}/valuations",
        {"curve_key": UNLICENSED_CURVE_KEY},
    ),
    Route(
        "api/v2/ppa/contracts/<str:contract_id>/valuations/<str:valuation_id>",
        "get",
        lambda w: f"/api/v2/ppa/contracts/{GLOBEX_PPA}/valuations/{GLOBEX_PPA_VALUATION}",
    ),
    # Scenarios and runs (tenant schema): globex's scenario and run exist (_globex_scenario).
    Route("api/v1/scenarios", "get", lambda w: "/api/v1/scenarios"),
    Route("api/v1/scenarios", "post", lambda w: "/api/v1/scenarios", {"name": "intruder"}),
    Route("api/v1/scenarios/<str:scenario_id>", "get", lambda w: f"/api/v1/scenarios/{GLOBEX_SCENARIO}"),
    Route("api/v1/scenarios/<str:scenario_id>", "delete", lambda w: f"/api/v1/scenarios/{GLOBEX_SCENARIO}"),
    Route(
        "api/v1/scenarios/<str:scenario_id>/run", "post", lambda w: f"/api/v1/scenarios/{GLOBEX_SCENARIO}/run"
    ),
    Route(
        "api/v1/scenarios/<str:scenario_id>/runs",
        "get",
        lambda w: f"/api/v1/scenarios/{GLOBEX_SCENARIO}/runs",
    ),
    Route(
        "api/v1/scenarios/<str:scenario_id>/runs:bulk",
        "post",
        lambda w: f"/api/v1/scenarios/{GLOBEX_SCENARIO}/runs:bulk",
        {"runs": [{"seed": 1}]},
    ),
    Route(
        "api/v1/scenarios/<str:scenario_id>/runs/<str:run_id>",
        "get",
        lambda w: f"/api/v1/scenarios/{GLOBEX_SCENARIO}/runs/{GLOBEX_RUN}",
    ),
    Route(
        "api/v1/scenarios/runs/<str:run_id>/cancel",
        "post",
        lambda w: f"/api/v1/scenarios/runs/{GLOBEX_RUN}/cancel",
    ),
    Route(
        "api/v1/scenarios/runs/<str:run_id>/state",
        "post",
        lambda w: f"/api/v1/scenarios/runs/{GLOBEX_RUN}/state",
        {"state": "CANCELLED"},
    ),
    Route(
        "api/v1/admin/cache/scenario/<str:scenario_id>/invalidate",
        "post",
        lambda w: f"/api/v1/admin/cache/scenario/{GLOBEX_SCENARIO}/invalidate",
    ),
    Route(
        "api/v1/scenarios/<str:scenario_id>/outputs",
        "get",
        lambda w: f"/api/v1/scenarios/{GLOBEX_SCENARIO}/outputs",
    ),
    Route(
        "api/v1/scenarios/<str:scenario_id>/metrics/latest",
        "get",
        lambda w: f"/api/v1/scenarios/{GLOBEX_SCENARIO}/metrics/latest",
    ),
    Route("api/v2/scenarios", "get", lambda w: "/api/v2/scenarios"),
    Route("api/v2/scenarios", "post", lambda w: "/api/v2/scenarios", {"name": "intruder"}),
    Route("api/v2/scenarios/<str:scenario_id>", "get", lambda w: f"/api/v2/scenarios/{GLOBEX_SCENARIO}"),
    Route(
        "api/v2/scenarios/<str:scenario_id>",
        "patch",
        lambda w: f"/api/v2/scenarios/{GLOBEX_SCENARIO}",
        {"name": "stolen"},
    ),
    Route("api/v2/scenarios/<str:scenario_id>", "delete", lambda w: f"/api/v2/scenarios/{GLOBEX_SCENARIO}"),
    Route(
        "api/v2/scenarios/<str:scenario_id>/runs",
        "get",
        lambda w: f"/api/v2/scenarios/{GLOBEX_SCENARIO}/runs",
    ),
    Route(
        "api/v2/scenarios/<str:scenario_id>/runs",
        "post",
        lambda w: f"/api/v2/scenarios/{GLOBEX_SCENARIO}/runs",
    ),
    Route("api/v2/scenario-runs/<str:run_id>", "get", lambda w: f"/api/v2/scenario-runs/{GLOBEX_RUN}"),
    Route(
        "api/v2/scenario-runs/<str:run_id>/cancel",
        "post",
        lambda w: f"/api/v2/scenario-runs/{GLOBEX_RUN}/cancel",
    ),
    Route(
        "api/v2/scenario-runs/<str:run_id>/outputs",
        "get",
        lambda w: f"/api/v2/scenario-runs/{GLOBEX_RUN}/outputs",
    ),
    Route(
        "api/v2/scenario-runs/<str:run_id>/compare",
        "get",
        lambda w: f"/api/v2/scenario-runs/{GLOBEX_RUN}/compare?other={GLOBEX_RUN}",
    ),
    # Watchlists and notices (tenant schema, per member): globex has a follow and a notice.
    Route("api/v2/watchlist", "get", lambda w: "/api/v2/watchlist"),
    Route(
        "api/v2/watchlist",
        "post",
        lambda w: "/api/v2/watchlist",
        {"curve_key": UNLICENSED_CURVE_KEY},
        allowed=(404,),
    ),
    Route("api/v2/watchlist/<str:curve_key>", "get", lambda w: f"/api/v2/watchlist/{GLOBEX_FOLLOWED_KEY}"),
    Route(
        "api/v2/watchlist/<str:curve_key>",
        "patch",
        lambda w: f"/api/v2/watchlist/{GLOBEX_FOLLOWED_KEY}",
        {"threshold_pct": 1},
    ),
    Route("api/v2/watchlist/<str:curve_key>", "delete", lambda w: f"/api/v2/watchlist/{GLOBEX_FOLLOWED_KEY}"),
    Route("api/v2/notices", "get", lambda w: "/api/v2/notices"),
    Route("api/v2/notices/read", "post", lambda w: "/api/v2/notices/read", {"ids": [GLOBEX_NOTICE]}),
    Route("api/v2/notices/<str:notice_id>", "get", lambda w: f"/api/v2/notices/{GLOBEX_NOTICE}"),
    # Usage (public schema, per tenant): names no object; the answer must hold no globex credential.
    Route("api/v2/usage", "get", lambda w: "/api/v2/usage"),
    # Webhooks (tenant schema): globex has an endpoint with one delivery attempt.
    Route("api/v2/webhooks", "get", lambda w: "/api/v2/webhooks"),
    Route("api/v2/webhooks", "post", lambda w: "/api/v2/webhooks", WEBHOOK_BODY, allowed=(201,)),
    Route("api/v2/webhooks/<str:endpoint_id>", "get", lambda w: f"/api/v2/webhooks/{GLOBEX_WEBHOOK}"),
    Route(
        "api/v2/webhooks/<str:endpoint_id>",
        "patch",
        lambda w: f"/api/v2/webhooks/{GLOBEX_WEBHOOK}",
        {"description": "mine now"},
    ),
    Route("api/v2/webhooks/<str:endpoint_id>", "delete", lambda w: f"/api/v2/webhooks/{GLOBEX_WEBHOOK}"),
    Route(
        "api/v2/webhooks/<str:endpoint_id>/rotate-secret",
        "post",
        lambda w: f"/api/v2/webhooks/{GLOBEX_WEBHOOK}/rotate-secret",
    ),
    Route(
        "api/v2/webhooks/<str:endpoint_id>/ping", "post", lambda w: f"/api/v2/webhooks/{GLOBEX_WEBHOOK}/ping"
    ),
    Route(
        "api/v2/webhooks/<str:endpoint_id>/enable",
        "post",
        lambda w: f"/api/v2/webhooks/{GLOBEX_WEBHOOK}/enable",
    ),
    Route(
        "api/v2/webhooks/<str:endpoint_id>/deliveries",
        "get",
        lambda w: f"/api/v2/webhooks/{GLOBEX_WEBHOOK}/deliveries",
    ),
    Route(
        "api/v2/webhooks/<str:endpoint_id>/deliveries/<str:delivery_id>/redeliver",
        "post",
        lambda w: f"/api/v2/webhooks/{GLOBEX_WEBHOOK}/deliveries/{GLOBEX_WEBHOOK_DELIVERY}/redeliver",
    ),
    Route(
        "api/v2/webhooks/<str:endpoint_id>/events",
        "get",
        lambda w: f"/api/v2/webhooks/{GLOBEX_WEBHOOK}/events",
    ),
    # The audit ledger (tenant schema): globex's holds its members' token entries (their emails say globex).
    Route("api/v2/audit", "get", lambda w: "/api/v2/audit?limit=100"),
    Route("api/v2/audit/export", "get", lambda w: "/api/v2/audit/export"),
    Route("api/v2/audit/export", "get", lambda w: "/api/v2/audit/export?format=csv"),
    # Tenant exports (public table, scoped by tenant): acme's admin may queue one of its own (202).
    Route("api/v2/exports", "get", lambda w: "/api/v2/exports"),
    Route("api/v2/exports", "post", lambda w: "/api/v2/exports", allowed=(202,)),
    Route("api/v2/exports/<str:export_id>", "get", lambda w: f"/api/v2/exports/{GLOBEX_EXPORT}"),
    Route(
        "api/v2/exports/<str:export_id>/download",
        "get",
        lambda w: f"/api/v2/exports/{GLOBEX_EXPORT}/download",
    ),
]
ROUTES += [Route(pattern, method, path) for pattern, method, path in FEED_ROUTES]
ROUTES += [Route(*case) for case in MAPPING_ROUTES]
DOCS_ROUTES = {"api/v2/schema/", "api/v2/docs/"}  # public documentation, no tenant data
# Routes anyone may call, with the reason: no credential is needed, so none is checked.
OPEN_ROUTES = {"api/v2/invitations/accept": "the emailed link's signed token is the credential"}

# The original Aurum's paths: every /api/v1/ route is served at /v1/ too (aurum/urls_shared.py), so every case
# of an /api/v1/ route is also run at its /v1/ path.
ORIGINAL_V1 = ("api/v1/", "v1/")


def original_path(path: str) -> str:
    """``/api/v1/x?q`` → ``/v1/x?q``."""
    return "/" + ORIGINAL_V1[1] + path.removeprefix("/" + ORIGINAL_V1[0])


def canonical_pattern(pattern: str) -> str:
    """An original ``v1/`` route's ``api/v1/`` twin (the same view); any other route itself."""
    return (
        ORIGINAL_V1[0] + pattern.removeprefix(ORIGINAL_V1[1])
        if pattern.startswith(ORIGINAL_V1[1])
        else pattern
    )


def _original_route(route: Route) -> Route:
    def path(world: World, inner: Callable[[World], str] = route.path) -> str:
        return original_path(inner(world))

    return Route(
        ORIGINAL_V1[1] + route.pattern.removeprefix(ORIGINAL_V1[0]),
        route.method,
        path,
        route.body,
        route.allowed,
    )


ROUTES += [_original_route(route) for route in ROUTES if route.pattern.startswith(ORIGINAL_V1[0])]


def url_patterns(urlconf: str) -> dict[str, Any]:
    """Every route of ``urlconf`` (its full pattern, e.g. ``api/v2/tokens/<int:token_id>``) and its view."""
    return _walk(get_resolver(urlconf), "")


def _walk(resolver: URLResolver, prefix: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            found |= _walk(entry, route)
        elif isinstance(entry, URLPattern):
            found[route] = entry.callback
    return found


def api_patterns(urlconf: str = TENANT_URLCONF) -> set[str]:
    """The routes under ``api/`` of ``urlconf``, and the original's ``v1/`` paths."""
    return {route for route in url_patterns(urlconf) if route.startswith(("api/", ORIGINAL_V1[1]))}


def view_methods(view: Any) -> set[str] | None:
    """The HTTP methods a class-based view implements (lower case); None for a function view."""
    view_class = getattr(view, "view_class", None) or getattr(view, "cls", None)
    if view_class is None:
        return None
    return {
        method
        for method in view_class.http_method_names
        if method != "options" and hasattr(view_class, method)
    }


def get_patterns(urlconf: str = TENANT_URLCONF) -> set[str]:
    """The ``api/`` routes of ``urlconf`` whose view answers GET."""
    views = url_patterns(urlconf)
    return {route for route in api_patterns(urlconf) if "get" in (view_methods(views[route]) or {"get"})}


# Every GET route with a path naming acme's own objects (``tests.support.acme``), so it answers 200.
_DIFF = f"asof_a={ASOF_A}&asof_b={ASOF_B}"
OWN_GET_PATHS: dict[str, Callable[[AcmeObjects], str]] = {
    "api/v2/me": lambda o: "/api/v2/me",
    "api/v2/tokens": lambda o: "/api/v2/tokens",
    "api/v2/tokens/<int:token_id>": lambda o: f"/api/v2/tokens/{o.token_id}",
    "api/v2/members": lambda o: "/api/v2/members",
    "api/v2/sso": lambda o: "/api/v2/sso",
    "api/v2/members/<int:membership_id>": lambda o: f"/api/v2/members/{o.member_id}",
    "api/v2/invitations": lambda o: "/api/v2/invitations",
    "api/v2/ingest/runs": lambda o: "/api/v2/ingest/runs",
    "api/v2/ingest/runs/<int:run_id>": lambda o: f"/api/v2/ingest/runs/{o.ingest_run_id}",
    "api/v2/datasets": lambda o: "/api/v2/datasets",
    "api/v2/datasets/<path:dataset_id>": lambda o: "/api/v2/datasets/vendor:EUGP",
    # Backfills are the operators': acme (a customer) is refused the list and sees no backfill.
    "api/v2/backfills": lambda o: "/api/v2/backfills",
    "api/v2/backfills/<int:backfill_id>": lambda o: f"/api/v2/backfills/{OPS_BACKFILL}",
    "api/v2/feeds/quarantine": lambda o: "/api/v2/feeds/quarantine",
    "api/v2/ingest/quarantine": lambda o: "/api/v2/ingest/quarantine",
    "api/v2/curves/<str:curve_key>/lineage": (
        lambda o: f"/api/v2/curves/{o.curve_key}/lineage?tenor_label={o.tenor_label}"
    ),
    "api/v1/curves": lambda o: f"/api/v1/curves?curve_key={o.curve_key}",
    "api/v1/curves/diff": lambda o: f"/api/v1/curves/diff?{_DIFF}&curve_key={o.curve_key}",
    "api/v1/curves/strips": lambda o: f"/api/v1/curves/strips?type=CALENDAR&curve_key={o.curve_key}",
    "api/v1/metadata/dimensions": lambda o: "/api/v1/metadata/dimensions",
    "api/v2/curves": lambda o: f"/api/v2/curves?curve_key={o.curve_key}",
    "api/v2/curves/diff": lambda o: f"/api/v2/curves/diff?{_DIFF}&curve_key={o.curve_key}",
    "api/v2/curves/strips": lambda o: f"/api/v2/curves/strips?type=CALENDAR&curve_key={o.curve_key}",
    "api/v2/curves/movers": lambda o: f"/api/v2/curves/movers?{_DIFF}",
    "api/v2/curves/export": lambda o: f"/api/v2/curves/export?curve_key={o.curve_key}",
    "api/v2/curves/<str:curve_key>": lambda o: f"/api/v2/curves/{o.curve_key}",
    "api/v2/curves/<str:curve_key>/history": (
        lambda o: f"/api/v2/curves/{o.curve_key}/history?tenor_label={o.tenor_label}"
    ),
    "api/v2/metadata/dimensions": lambda o: "/api/v2/metadata/dimensions",
    "api/v2/metadata/locations": lambda o: "/api/v2/metadata/locations",
    "api/v2/metadata/locations/<str:iso>/<str:location_id>": (
        lambda o: f"/api/v2/metadata/locations/{LOCATION[0]}/{LOCATION[1]}"
    ),
    "api/v2/metadata/units": lambda o: "/api/v2/metadata/units",
    "api/v2/metadata/units/mapping": lambda o: "/api/v2/metadata/units/mapping",
    "api/v2/metadata/calendars": lambda o: "/api/v2/metadata/calendars",
    "api/v2/metadata/calendars/<str:name>/blocks": lambda o: f"/api/v2/metadata/calendars/{CALENDAR}/blocks",
    "api/v2/metadata/calendars/<str:name>/hours": (
        lambda o: f"/api/v2/metadata/calendars/{CALENDAR}/hours?block={BLOCK}&date={ASOF_A}"
    ),
    "api/v2/metadata/calendars/<str:name>/expand": (
        lambda o: f"/api/v2/metadata/calendars/{CALENDAR}/expand?block={BLOCK}&start={ASOF_A}&end={ASOF_B}"
    ),
    "api/v1/metadata/locations": lambda o: "/api/v1/metadata/locations",
    "api/v1/metadata/locations/<str:iso>/<str:location_id>": (
        lambda o: f"/api/v1/metadata/locations/{LOCATION[0]}/{LOCATION[1]}"
    ),
    "api/v1/metadata/units": lambda o: "/api/v1/metadata/units",
    "api/v1/metadata/units/mapping": lambda o: "/api/v1/metadata/units/mapping",
    "api/v1/metadata/calendars": lambda o: "/api/v1/metadata/calendars",
    "api/v1/metadata/calendars/<str:name>/blocks": lambda o: f"/api/v1/metadata/calendars/{CALENDAR}/blocks",
    "api/v1/metadata/calendars/<str:name>/hours": (
        lambda o: f"/api/v1/metadata/calendars/{CALENDAR}/hours?block={BLOCK}&date={ASOF_A}"
    ),
    "api/v1/metadata/calendars/<str:name>/expand": (
        lambda o: f"/api/v1/metadata/calendars/{CALENDAR}/expand?block={BLOCK}&start={ASOF_A}&end={ASOF_B}"
    ),
    "api/v1/ppa/contracts": lambda o: "/api/v1/ppa/contracts",
    "api/v1/ppa/contracts/<str:contract_id>": lambda o: f"/api/v1/ppa/contracts/{o.contract_id}",
    "api/v1/ppa/contracts/<str:contract_id>/valuations": (
        lambda o: f"/api/v1/ppa/contracts/{o.contract_id}/valuations"
    ),
    "api/v2/ppa/contracts": lambda o: "/api/v2/ppa/contracts",
    "api/v2/ppa/contracts/<str:contract_id>": lambda o: f"/api/v2/ppa/contracts/{o.contract_id}",
    "api/v2/ppa/contracts/<str:contract_id>/valuations": (
        lambda o: f"/api/v2/ppa/contracts/{o.contract_id}/valuations"
    ),
    "api/v2/ppa/contracts/<str:contract_id>/valuations/<str:valuation_id>": (
        lambda o: f"/api/v2/ppa/contracts/{o.contract_id}/valuations/{o.valuation_id}"
    ),
    "api/v1/scenarios": lambda o: "/api/v1/scenarios",
    "api/v1/scenarios/<str:scenario_id>": lambda o: f"/api/v1/scenarios/{o.scenario_id}",
    "api/v1/scenarios/<str:scenario_id>/runs": lambda o: f"/api/v1/scenarios/{o.scenario_id}/runs",
    "api/v1/scenarios/<str:scenario_id>/runs/<str:run_id>": (
        lambda o: f"/api/v1/scenarios/{o.scenario_id}/runs/{o.run_id}"
    ),
    "api/v1/scenarios/<str:scenario_id>/outputs": lambda o: f"/api/v1/scenarios/{o.scenario_id}/outputs",
    "api/v1/scenarios/<str:scenario_id>/metrics/latest": (
        lambda o: f"/api/v1/scenarios/{o.scenario_id}/metrics/latest"
    ),
    "api/v2/scenarios": lambda o: "/api/v2/scenarios",
    "api/v2/scenarios/<str:scenario_id>": lambda o: f"/api/v2/scenarios/{o.scenario_id}",
    "api/v2/scenarios/<str:scenario_id>/runs": lambda o: f"/api/v2/scenarios/{o.scenario_id}/runs",
    "api/v2/scenario-runs/<str:run_id>": lambda o: f"/api/v2/scenario-runs/{o.run_id}",
    "api/v2/scenario-runs/<str:run_id>/outputs": lambda o: f"/api/v2/scenario-runs/{o.run_id}/outputs",
    "api/v2/scenario-runs/<str:run_id>/compare": (
        lambda o: f"/api/v2/scenario-runs/{o.run_id}/compare?other={o.other_run_id}"
    ),
    "api/v2/watchlist": lambda o: "/api/v2/watchlist",
    "api/v2/watchlist/<str:curve_key>": lambda o: f"/api/v2/watchlist/{o.curve_key}",
    "api/v2/notices": lambda o: "/api/v2/notices",
    "api/v2/notices/<str:notice_id>": lambda o: f"/api/v2/notices/{o.notice_id}",
    "api/v2/usage": lambda o: "/api/v2/usage",
    "api/v2/webhooks": lambda o: "/api/v2/webhooks",
    "api/v2/webhooks/<str:endpoint_id>": lambda o: f"/api/v2/webhooks/{o.webhook_id}",
    "api/v2/webhooks/<str:endpoint_id>/deliveries": lambda o: f"/api/v2/webhooks/{o.webhook_id}/deliveries",
    "api/v2/webhooks/<str:endpoint_id>/events": lambda o: f"/api/v2/webhooks/{o.webhook_id}/events",
    "api/v2/audit": lambda o: "/api/v2/audit",
    "api/v2/audit/export": lambda o: "/api/v2/audit/export",
    "api/v2/exports": lambda o: "/api/v2/exports",
    "api/v2/exports/<str:export_id>": lambda o: f"/api/v2/exports/{o.export_id}",
    "api/v2/exports/<str:export_id>/download": lambda o: f"/api/v2/exports/{o.export_id}/download",
    # Public documentation: the same for everyone.
    "api/v2/schema/": lambda o: "/api/v2/schema/",
    "api/v2/docs/": lambda o: "/api/v2/docs/",
}


OWN_GET_PATHS |= FEED_GET_PATHS
__all__ = ["OWN_GET_STATUS"]  # re-exported for the suites: a GET route's status for acme when not 200


def _original_get_path(inner: Callable[[AcmeObjects], str]) -> Callable[[AcmeObjects], str]:
    return lambda objects: original_path(inner(objects))


OWN_GET_PATHS |= {
    ORIGINAL_V1[1] + pattern.removeprefix(ORIGINAL_V1[0]): _original_get_path(path)
    for pattern, path in list(OWN_GET_PATHS.items())
    if pattern.startswith(ORIGINAL_V1[0])
}
