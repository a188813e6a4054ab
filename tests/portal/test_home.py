"""The home page: licensed datasets with their latest as-of and freshness, recent scenario runs, quarantine
for operators, and what to do next without data."""

from datetime import UTC, date, datetime, time

import pytest

from apps.ingestion.freshness import dataset_freshness, expected_asof
from tests.support.curves import D3
from tests.support.lake import RP_DAYS


def test_home_lists_each_licensed_dataset_with_its_latest_asof_and_lateness(portal):
    html = portal("acme", "analyst").get("/").content.decode()

    for dataset, last in (("vendor:EUGP", D3), ("vendor:RP", RP_DAYS[-1])):
        row = html[html.index(f">{dataset}</a></th>") :].split("</tr>")[0]
        assert f'<td class="num">{last:%Y-%m-%d}</td>' in row
        assert "late ·" in row  # the fixture days are long past their deadline
    pw = html[html.index(">vendor:PW</a></th>") :].split("</tr>")[0]
    assert "no data" in pw
    assert "API tokens" in html and 'href="/settings/"' in html


def test_globex_sees_only_its_licensed_dataset(portal):
    html = portal("globex", "analyst").get("/").content.decode()

    assert ">vendor:EUGP</a></th>" in html
    assert "vendor:RP" not in html


def test_a_viewer_sees_no_tokens_and_no_settings(portal):
    html = portal("acme", "viewer").get("/").content.decode()

    assert "API tokens" not in html
    assert 'href="/settings/"' not in html


def test_without_licensed_data_home_says_what_to_do_next(portal, world):
    from tenants.models import Entitlement

    Entitlement.objects.filter(tenant_id=world.globex.pk).delete()

    html = portal("globex", "analyst").get("/").content.decode()

    assert "No market data yet." in html
    assert "ask your administrator" in html


def test_operators_see_the_quarantine_and_others_do_not(portal):
    ops = portal("ops", "admin").get("/").content.decode()
    acme = portal("acme", "admin").get("/").content.decode()

    assert 'id="quarantine-title"' in ops
    assert 'id="quarantine-title"' not in acme


def test_recent_scenario_runs_show_their_state_and_never_another_tenants(portal):
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from apps.scenarios.models import Scenario, ScenarioRun

    for schema, name, status in (
        ("acme", "Acme winter stress", "succeeded"),
        ("globex", "Globex secret", "failed"),
    ):
        with schema_context(schema):
            scenario = Scenario.objects.create(name=name, unique_key=f"{schema}:{name}", curve_keys=["x"])
            ScenarioRun.objects.create(
                scenario=scenario,
                status=status,
                input_hash="0" * 64,
                code_version="t",
                queued_at=timezone.now(),
            )

    html = portal("acme", "analyst").get("/").content.decode()

    assert "Acme winter stress" in html
    assert '<span class="badge badge-ok">succeeded</span>' in html
    assert "Globex secret" not in html


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2025, 7, 3, 17, 59, tzinfo=UTC), date(2025, 7, 2)),  # Thursday before the deadline
        (datetime(2025, 7, 3, 18, 0, tzinfo=UTC), date(2025, 7, 3)),  # Thursday at the deadline
        (datetime(2025, 7, 5, 12, 0, tzinfo=UTC), date(2025, 7, 4)),  # Saturday: Friday's
        (datetime(2025, 7, 7, 9, 0, tzinfo=UTC), date(2025, 7, 4)),  # Monday morning: still Friday's
    ],
)
def test_the_expected_asof_is_the_last_business_day_past_its_deadline(now, expected):
    assert expected_asof(now=now, deadline=time(18, 0)) == expected


def test_a_dataset_is_late_by_the_business_days_without_their_vintage(settings):
    settings.AURUM_PUBLICATION_DEADLINES = {"vendor:RP": "22:00"}
    monday_night = datetime(2025, 7, 7, 21, 0, tzinfo=UTC)

    rp = dataset_freshness(dataset="vendor:RP", last_asof=date(2025, 7, 3), now=monday_night)
    eugp = dataset_freshness(dataset="vendor:EUGP", last_asof=date(2025, 7, 7), now=monday_night)

    assert (rp.expected_asof, rp.late, rp.business_days_late) == (date(2025, 7, 4), True, 1)
    assert (eugp.expected_asof, eugp.late, eugp.business_days_late) == (date(2025, 7, 7), False, 0)


def test_home_shows_the_publication_sla_of_each_licensed_dataset(portal):
    acme = portal("acme", "analyst").get("/").content.decode()
    globex = portal("globex", "analyst").get("/").content.decode()

    section = acme[acme.index('id="slas-title"') :].split("</section>")[0]
    assert "<code>feed:fred:DGS10</code>" in section and "<code>vendor:EUGP</code>" in section
    eugp = section[section.index("<code>vendor:EUGP</code>") :].split("</tr>")[0]
    assert 'badge-bad">late' in eugp  # the fixture days are long past: today's workbook is missing
    theirs = globex[globex.index('id="slas-title"') :].split("</section>")[0]
    assert "<code>vendor:EUGP</code>" in theirs and "feed:fred" not in theirs
