"""Cross-tenant isolation as a suite over every tenant API endpoint.

Every route under /api/ must appear in ROUTES (tests/support/routes.py); a new endpoint without an isolation
case fails ``test_every_api_route_has_an_isolation_case``.
"""

from typing import Any

import pytest

from tests.support.routes import (
    DOCS_ROUTES,
    GLOBEX_EXPORT,
    GLOBEX_FOLLOWED_KEY,
    GLOBEX_INVITATION,
    GLOBEX_INVITATION_EMAIL,
    GLOBEX_NOTICE,
    GLOBEX_PPA,
    GLOBEX_PPA_VALUATION,
    GLOBEX_RUN,
    GLOBEX_SCENARIO,
    GLOBEX_WEBHOOK,
    GLOBEX_WEBHOOK_DELIVERY,
    HELD_FEED_ROW,
    HELD_VENDOR_ROW,
    OPEN_ROUTES,
    OPS_BACKFILL,
    PPA_TERMS,
    ROUTES,
    UNLICENSED_CURVE_KEY,
    UNLICENSED_RUN_ID,
    Route,
    api_patterns,
)
from tests.support.world import World


def test_every_api_route_has_an_isolation_case():
    routes = api_patterns() - DOCS_ROUTES

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
def _globex_watchlist(world: Any) -> None:
    import datetime

    from django_tenants.utils import schema_context

    from apps.watchlists.models import Follow, Notice

    admin = world.globex.members["admin"].membership_id
    day = datetime.date(2025, 1, 2)
    with schema_context("globex"):
        Follow.objects.create(membership_id=admin, curve_key=GLOBEX_FOLLOWED_KEY, threshold_pct=1)
        Notice.objects.create(
            pk=GLOBEX_NOTICE,
            membership_id=admin,
            curve_key=GLOBEX_FOLLOWED_KEY,
            asof=day,
            prev_asof=day - datetime.timedelta(days=1),
            tenor="2025-02",
            diff_abs=1.0,
        )


@pytest.fixture(autouse=True)
def _globex_invitation(world: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from apps.accounts.models import Invitation

    Invitation.objects.create(
        pk=GLOBEX_INVITATION,
        tenant_id=world.globex.pk,
        email=GLOBEX_INVITATION_EMAIL,
        role="viewer",
        expires_at=timezone.now() + timedelta(days=1),
    )


@pytest.fixture(autouse=True)
def _globex_webhook(db: None) -> None:
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from apps.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookMessage

    now = timezone.now()
    with schema_context("globex"):
        endpoint = WebhookEndpoint.objects.create(
            pk=GLOBEX_WEBHOOK,
            url="https://globex.example.com/hook",
            events=["scenario.run.succeeded"],
            secret="whsec_Z2xvYmV4",
            sequence=1,
        )
        message = WebhookMessage.objects.create(
            endpoint=endpoint,
            event_id="8c2d0a3f-0000-4000-8000-00000000d002",
            event_type="scenario.run.succeeded",
            sequence=1,
            payload={"tenant": "globex"},
            retry_until=now,
        )
        WebhookDelivery.objects.create(
            pk=GLOBEX_WEBHOOK_DELIVERY,
            endpoint=endpoint,
            message=message,
            attempt=1,
            attempted_at=now,
            outcome="succeeded",
            status_code=200,
            duration_ms=5,
            response_body="globex",
        )


@pytest.fixture(autouse=True)
def _globex_export(world: Any) -> None:
    from apps.exports.models import TenantExport
    from tenants.models import Tenant

    TenantExport.objects.create(
        pk=GLOBEX_EXPORT,
        tenant=Tenant.objects.get(pk=world.globex.pk),
        schema_name="globex",
        status="succeeded",
        file_path="/nonexistent/globex-export.zip",
        sha256="0" * 64,
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
def _ops_backfill(db: None) -> None:
    import datetime

    from apps.datasets.models import Backfill
    from apps.feeds.models import FeedQuarantineRow, FetchRun
    from apps.ingestion.models import CurveQuarantineRow, IngestRun

    day = datetime.date(2024, 4, 29)
    Backfill.objects.create(
        pk=OPS_BACKFILL, dataset="feed:fred:DGS10", first_day=day, last_day=day, requested_in="ops"
    )
    start = datetime.datetime(2024, 4, 29, tzinfo=datetime.UTC)
    window = {"provider": "FRED", "dataset": "DGS10", "window_start": start, "window_end": start}
    run = FetchRun.objects.create(**window, status="succeeded")
    FeedQuarantineRow.objects.create(
        pk=HELD_FEED_ROW, fetch_run=run, **window, row={"value": -999}, reasons=["value_in_range"]
    )
    ingest = IngestRun.objects.create(
        file_name="EOD_EUGP_20240429_1430.xlsx",
        sha256="0" * 64,
        size_bytes=1,
        raw_uri="",
        source="api",
        vendor="EUGP",
        dataset="vendor:EUGP",
        asof_date=day,
        status="succeeded_with_quarantine",
    )
    CurveQuarantineRow.objects.create(
        pk=HELD_VENDOR_ROW, run=ingest, dataset="vendor:EUGP", asof_date=day, row={}, reasons=["ask_ge_bid"]
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
    if route.pattern in OPEN_ROUTES:  # anyone's answer: here the invitee's password is too weak
        assert on_host.status_code == 400
    else:
        assert on_host.status_code in (401, 403)
    _no_globex_data(named)
    _no_globex_data(on_host)


def test_globex_token_was_not_revoked_by_the_attempts(world, api):
    for route in ROUTES:
        _call(api, route, world, **world.acme.auth("admin"))

    assert api.get("/api/v2/me", **world.globex.auth("admin")).status_code == 200
