"""Cross-tenant isolation as a suite over every tenant API endpoint.

Every route under /api/ must appear in ROUTES below; a new endpoint without an isolation case fails
``test_every_api_route_has_an_isolation_case``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.support.world import World


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
    Route("api/v2/ingest/runs", "get", lambda w: "/api/v2/ingest/runs"),
    Route("api/v2/ingest/runs", "post", lambda w: "/api/v2/ingest/runs", {"file": "x"}, allowed=(403,)),
    Route("api/v2/ingest/runs/<int:run_id>", "get", lambda w: f"/api/v2/ingest/runs/{UNLICENSED_RUN_ID}"),
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
]
DOCS_ROUTES = {"api/v2/schema/", "api/v2/docs/"}  # public documentation, no tenant data


def _api_patterns(resolver: URLResolver, prefix: str = "") -> set[str]:
    found: set[str] = set()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            found |= _api_patterns(entry, route)
        elif isinstance(entry, URLPattern) and route.startswith("api/"):
            found.add(route)
    return found


def test_every_api_route_has_an_isolation_case():
    routes = _api_patterns(get_resolver("aurum.urls_tenant")) - DOCS_ROUTES

    assert routes == {r.pattern for r in ROUTES}


def _call(api: Any, route: Route, world: World, **extra: str) -> Any:
    return getattr(api, route.method)(route.path(world), route.body, format="json", **extra)


def _no_globex_data(response: Any) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    text = content.decode()
    assert "globex" not in text.lower()
    return text


@pytest.fixture(autouse=True)
def _globex_ppa(db: None) -> None:
    import datetime

    from django_tenants.utils import schema_context

    from apps.ppa.models import PpaContract, PpaValuation

    with schema_context("globex"):
        contract = PpaContract.objects.create(
            pk=GLOBEX_PPA, terms={**PPA_TERMS, "counterparty": "Globex Wind"}
        )
        PpaValuation.objects.create(
            pk=GLOBEX_PPA_VALUATION,
            contract=contract,
            source="curve",
            curve_key="globex-curve",
            asof=datetime.date(2025, 1, 1),
            npv=1,
            version_hash="globex",
        )


@pytest.fixture(autouse=True)
def _globex_scenario(db: None) -> None:
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from apps.scenarios.models import Scenario, ScenarioRun

    with schema_context("globex"):
        scenario = Scenario.objects.create(
            pk=GLOBEX_SCENARIO, name="Globex secret", unique_key="globex:globex-secret", curve_keys=["x"]
        )
        ScenarioRun.objects.create(
            pk=GLOBEX_RUN,
            scenario=scenario,
            status="succeeded",
            input_hash="0" * 64,
            code_version="globex",
            queued_at=timezone.now(),
        )


@pytest.fixture(autouse=True)
def _unlicensed_run(db: None) -> None:
    import datetime

    from apps.curves.models import Curve
    from apps.ingestion.models import IngestRun

    day = datetime.date(2025, 1, 1)
    Curve.objects.create(
        curve_key=UNLICENSED_CURVE_KEY,
        dataset="vendor:XYZ",
        vendor="XYZ",
        asset_class="power",
        location="EOD_XYZ hub",
        first_asof=day,
        last_asof=day,
    )

    IngestRun.objects.create(
        pk=UNLICENSED_RUN_ID,
        file_name="EOD_XYZ_20250101_1430.xlsx",
        sha256="0" * 64,
        size_bytes=1,
        raw_uri="file:///nowhere",
        source="api",
        vendor="XYZ",
        dataset="vendor:XYZ",
        status="succeeded",
    )


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.pattern}")
def test_acme_admin_token_never_sees_or_touches_globex(world, api, route):
    response = _call(api, route, world, **world.acme.auth("admin"))

    if "<" in route.pattern:
        assert response.status_code == 404
    else:
        assert response.status_code in route.allowed
    text = _no_globex_data(response)
    assert "EOD_XYZ" not in text


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.pattern}")
def test_acme_token_on_globex_host_is_404(world, api, route):
    response = _call(api, route, world, HTTP_HOST=world.globex.host, **world.acme.auth("admin"))

    assert response.status_code == 404
    _no_globex_data(response)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.pattern}")
def test_acme_token_naming_globex_is_404(world, api, route):
    response = _call(api, route, world, HTTP_X_AURUM_TENANT="globex", **world.acme.auth("admin"))

    assert response.status_code == 404


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.pattern}")
def test_acme_session_user_cannot_reach_globex(world, api, route):
    from apps.accounts.models import User

    api.force_login(User.objects.get(email="admin@acme.example"))
    named = _call(api, route, world, HTTP_X_AURUM_TENANT="globex")
    on_host = _call(api, route, world, HTTP_HOST=world.globex.host)

    assert named.status_code == 404
    assert on_host.status_code in (401, 403)
    _no_globex_data(named)
    _no_globex_data(on_host)


def test_globex_token_was_not_revoked_by_the_attempts(world, api):
    for route in ROUTES:
        _call(api, route, world, **world.acme.auth("admin"))

    assert api.get("/api/v2/me", **world.globex.auth("admin")).status_code == 200
