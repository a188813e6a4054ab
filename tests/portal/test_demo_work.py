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


def test_the_seed_waits_for_the_run_when_the_demo_worker_took_it_first(portal, monkeypatch):
    """The demo's worker starts while the tenants are seeded: it may take the run the seed submits before the
    seed executes it. The seed then uses the worker's finished run, and values the PPA on it."""
    from aurum.devstack.demo import work

    executed = work.scenario_run_execute
    taken: list[str] = []

    def worker_first(*, run_id, tenant):
        delivered = executed(run_id=run_id, tenant=tenant)  # the worker's delivery
        taken.append(delivered.status if delivered else "nothing")
        return executed(run_id=run_id, tenant=tenant)  # the seed's: nothing left to start

    monkeypatch.setattr(work, "scenario_run_execute", worker_first)
    made = demo_work_seed(tenant=tenant("acme"))

    assert taken == ["succeeded"]
    with schema_context("acme"):
        run = ScenarioRun.objects.get()
        contract = PpaContract.objects.get(terms__counterparty=COUNTERPARTY)
        sources = sorted(PpaValuation.objects.filter(contract=contract).values_list("source", flat=True))
    assert made["run"] == str(run.pk) and run.status == "succeeded"
    assert sources == ["curve", "scenario_run"]
