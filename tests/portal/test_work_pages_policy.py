"""Every scenario and PPA page (with data, and empty) keeps the portal's Content-Security-Policy and runs no
inline script or style — the list beside tests/portal/test_foundation.py's PAGES."""

import pytest
from django_tenants.utils import schema_context

from apps.ppa.models import PpaValuation
from tests.support.page_policy import assert_page_keeps_the_policy
from tests.support.portal_work import contract_make, run_make, scenario_make

EMPTY_PAGES = ["/scenarios/", "/scenarios/new/", "/scenarios/compare/", "/ppa/", "/ppa/new/"]


@pytest.mark.parametrize("path", EMPTY_PAGES)
def test_the_empty_pages_keep_the_policy(portal, path):
    response = portal("acme", "trader").get(path)

    assert response.status_code == 200
    assert_page_keeps_the_policy(response)


def test_the_pages_with_data_keep_the_policy(portal):
    scenario = scenario_make("acme", "Carbon 2026")
    first, second = run_make("acme", scenario, seed=1), run_make("acme", scenario, seed=2)
    contract = contract_make("acme")
    client = portal("acme", "trader")
    client.post(f"/ppa/{contract.pk}/value/", {"source": "run", "run": str(first.pk)})
    with schema_context("acme"):
        valuation = PpaValuation.objects.get()
    queued = client.post(f"/scenarios/{scenario.pk}/run/", {"n_paths": "10", "seed": "3"})["Location"]

    for path in (
        "/scenarios/",
        f"/scenarios/{scenario.pk}/",
        f"/scenarios/{scenario.pk}/edit/",
        f"/scenarios/{scenario.pk}/runs/{first.pk}/",
        queued,
        f"/scenarios/compare/?a={first.pk}&b={second.pk}",
        "/ppa/",
        f"/ppa/{contract.pk}/",
        f"/ppa/{contract.pk}/edit/",
        f"/ppa/{contract.pk}/valuations/{valuation.pk}/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_page_keeps_the_policy(response)
