"""The home page: licensed datasets with their latest as-of and their contract's status (the one notion of
lateness, decision 0041), recent scenario runs, quarantine for operators, and what to do next without data."""

import re
from datetime import UTC, date, datetime, time

from structlog.testing import capture_logs

from apps.datasets.registry import CONTRACTS
from apps.ingestion.contracts import legacy_deadline_apply, legacy_deadlines, legacy_deadlines_warn
from tests.support.curves import D3
from tests.support.lake import RP_DAYS


def test_home_lists_each_licensed_dataset_with_its_latest_asof_and_lateness(portal):
    html = portal("acme", "analyst").get("/").content.decode()

    for dataset, last in (("vendor:EUGP", D3), ("vendor:RP", RP_DAYS[-1])):
        row = html[html.index(f">{dataset}</a></th>") :].split("</tr>")[0]
        assert f'<td class="num">{last:%Y-%m-%d}</td>' in row
        assert 'badge-bad" title="due' in row and ">late</span>" in row  # the fixture days are long past
    pw = html[html.index(">vendor:PW</a></th>") :].split("</tr>")[0]
    assert ">late</span>" in pw and '<td class="num">—</td>' in pw
    assert "late ·" not in html and "business day" not in html  # the settings deadline's notion is gone
    assert "API tokens" in html and 'href="/settings/"' in html


def _status(row: str) -> str:
    return re.findall(r'<span class="badge [^"]*"[^>]*>([a-z ]+)</span>', row)[0]


def test_the_datasets_table_and_the_publication_slas_say_the_same_lateness(portal):
    html = portal("acme", "analyst").get("/").content.decode()
    slas = html[html.index('id="slas-title"') :].split("</section>")[0]

    for dataset in ("vendor:EUGP", "vendor:RP", "vendor:PW"):
        table_row = html[html.index(f">{dataset}</a></th>") :].split("</tr>")[0]
        sla_row = slas[slas.index(f"<code>{dataset}</code>") :].split("</tr>")[0]
        assert _status(table_row) == _status(sla_row) == "late"


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


def test_a_legacy_deadline_becomes_its_contracts_due_time_in_utc():
    rp = CONTRACTS["vendor:RP"]
    mapped = legacy_deadline_apply(rp, time(22, 0))

    # The contract alone: 14:30 London + 150 minutes, so 16:00 UTC in summer and 17:00 UTC in winter.
    assert rp.publication(date(2025, 7, 7)).due_at == datetime(2025, 7, 7, 16, 0, tzinfo=UTC)
    assert rp.publication(date(2025, 1, 6)).due_at == datetime(2025, 1, 6, 17, 0, tzinfo=UTC)
    # With AURUM_PUBLICATION_DEADLINES=vendor:RP=22:00: due 22:00 UTC all year, expected the SLA before.
    for day in (date(2025, 7, 7), date(2025, 1, 6)):
        publication = mapped.publication(day)
        assert (publication.expected_at.time(), publication.due_at.time()) == (time(19, 30), time(22, 0))
        assert publication.due_at.date() == day
    early = legacy_deadline_apply(rp, time(1, 0)).publication(date(2025, 7, 7))
    assert (early.expected_at, early.due_at) == (
        datetime(2025, 7, 7, 0, 0, tzinfo=UTC),
        datetime(2025, 7, 7, 1, 0, tzinfo=UTC),
    )


def test_the_deprecated_settings_are_read_and_warned_about_only_when_set(settings):
    settings.AURUM_PUBLICATION_DEADLINES, settings.AURUM_PUBLICATION_DEADLINE_UTC = {}, ""
    with capture_logs() as quiet:
        legacy_deadlines_warn()
    unset = legacy_deadlines()
    settings.AURUM_PUBLICATION_DEADLINES = {"vendor:RP": "22:00"}
    one = legacy_deadlines()
    settings.AURUM_PUBLICATION_DEADLINE_UTC = "18:00"
    with capture_logs() as warned:
        legacy_deadlines_warn()

    assert (unset, quiet) == ({}, [])
    assert one == {"vendor:RP": time(22, 0)}
    assert legacy_deadlines() == {
        "vendor:EUGP": time(18, 0),
        "vendor:PW": time(18, 0),
        "vendor:RP": time(22, 0),
        "vendor:SIMPLE": time(18, 0),
    }
    assert [(w["log_level"], w["deadlines"]["vendor:RP"]) for w in warned] == [("warning", "22:00")]
    assert "deprecated setting" in warned[0]["event"]


def test_home_shows_the_publication_sla_of_each_licensed_dataset(portal):
    acme = portal("acme", "analyst").get("/").content.decode()
    globex = portal("globex", "analyst").get("/").content.decode()

    section = acme[acme.index('id="slas-title"') :].split("</section>")[0]
    assert "<code>feed:fred:DGS10</code>" in section and "<code>vendor:EUGP</code>" in section
    eugp = section[section.index("<code>vendor:EUGP</code>") :].split("</tr>")[0]
    assert 'badge-bad">late' in eugp  # the fixture days are long past: today's workbook is missing
    theirs = globex[globex.index('id="slas-title"') :].split("</section>")[0]
    assert "<code>vendor:EUGP</code>" in theirs and "feed:fred" not in theirs
