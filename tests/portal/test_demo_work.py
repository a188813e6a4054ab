"""The demo's scenario and PPA: after the seed, acme's analyst finds a scenario with a succeeded run and a
valued contract on the portal; seeding again adds nothing."""

from django_tenants.utils import schema_context

from apps.ppa.models import PpaContract, PpaValuation
from apps.scenarios.models import Scenario, ScenarioRun
from aurum.devstack.demo.work import COUNTERPARTY, SCENARIO_NAME, demo_work_seed
from tests.support.portal_work import tenant


def test_the_demo_lands_the_analyst_on_a_finished_run_and_a_valued_ppa(portal):
    made = demo_work_seed(tenant=tenant("acme"))
    again = demo_work_seed(tenant=tenant("acme"))

    assert made == again
    with schema_context("acme"):
        assert Scenario.objects.filter(name=SCENARIO_NAME).count() == 1
        assert list(ScenarioRun.objects.values_list("status", flat=True)) == ["succeeded"]
        contract = PpaContract.objects.get(terms__counterparty=COUNTERPARTY)
        sources = sorted(PpaValuation.objects.filter(contract=contract).values_list("source", flat=True))
    assert sources == ["curve", "scenario_run"]
    analyst = portal("acme", "analyst")
    run_page = analyst.get(f"/scenarios/{made['scenario']}/runs/{made['run']}/")
    assert run_page.status_code == 200 and run_page.context["result"].rows
    assert COUNTERPARTY in analyst.get("/ppa/").content.decode()
