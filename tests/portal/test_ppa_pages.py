"""``/ppa/``: contracts, the terms form with each message next to its field, valuation against the latest
curves or a scenario run (cashflow chart, NPV, IRR) and the history; the API's permissions (viewers read,
analysts value, traders write terms) and isolation (globex: 404)."""

import re

import pytest
from django_tenants.utils import schema_context

from apps.curves.models import Curve
from apps.ppa.models import PpaContract, PpaValuation
from apps.ppa.valuation import value_ppa
from tests.support.portal_work import contract_make, german_power_keys, run_make, scenario_make


def _error_next_to(html: str, field: str) -> str:
    match = re.search(rf'<span class="error" id="id_{field}_error">(.*?)</span>', html, flags=re.S)
    return match.group(1).strip() if match else ""


TERMS = {
    "counterparty": "Wind Co",
    "price_usd_mwh": "55",
    "volume_mwh": "1200",
    "discount_rate": "0.08",
    "upfront_cost": "10000",
    "start_date": "2026-01-01",
    "end_date": "2026-12-31",
}


def test_the_list_says_how_to_get_started_when_empty(portal):
    trader = portal("acme", "trader").get("/ppa/").content.decode()
    viewer = portal("acme", "viewer").get("/ppa/").content.decode()

    assert "No PPA contracts yet." in trader and 'href="/ppa/new/"' in trader
    assert (
        "A trader or an admin of Acme Energy records contracts" in viewer and 'href="/ppa/new/"' not in viewer
    )


@pytest.mark.parametrize("count", [1, 5])
def test_the_list_shows_each_contract_with_its_latest_npv_in_fixed_queries(
    portal, django_assert_num_queries, count
):
    contracts = [contract_make("acme", counterparty=f"Co {index}") for index in range(count)]
    client = portal("acme", "analyst")
    client.post(f"/ppa/{contracts[0].pk}/value/", {"source": "curve"})
    client.get("/ppa/")

    # the frame's 6, then count, page of contracts, their latest valuations
    with django_assert_num_queries(9):
        html = client.get("/ppa/").content.decode()

    with schema_context("acme"):
        npv = PpaValuation.objects.get(contract=contracts[0]).npv
    assert all(f"Co {index}" in html for index in range(count))
    assert f"{npv:.0f}" in html and html.count("not valued") == count - 1


def test_the_period_says_what_is_valued_when_a_date_is_left_open(portal):
    """Given contracts with both dates, only a start, only an end and neither, the list and each contract's
    page say the period as valued: the range, "from", "until", or every month of the curve."""
    both = contract_make("acme", counterparty="Both Co")
    start = contract_make("acme", counterparty="Start Co", end_date=None)
    end = contract_make("acme", counterparty="End Co", start_date=None)
    neither = contract_make("acme", counterparty="Open Co", start_date=None, end_date=None)
    client = portal("acme", "analyst")

    listed = client.get("/ppa/").content.decode()
    pages = {c.pk: client.get(f"/ppa/{c.pk}/").content.decode() for c in (both, start, end, neither)}

    for html in (listed, pages[both.pk]):
        assert "2026-01-01 – 2026-12-31" in html
    for html in (listed, pages[start.pk]):
        assert "from 2026-01-01" in html
    for html in (listed, pages[end.pk]):
        assert "until 2026-12-31" in html
    for html in (listed, pages[neither.pk]):
        assert "every month of the curve" in html
    assert "…" not in re.sub(r'data-busy-label="[^"]*"', "", listed)


def test_creating_a_contract_saves_its_terms(portal):
    key = german_power_keys()[0]

    response = portal("acme", "trader").post("/ppa/new/", {**TERMS, "curve_key": key})

    with schema_context("acme"):
        contract = PpaContract.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/ppa/{contract.pk}/"
    assert contract.curve_key == key
    assert contract.terms == {
        "counterparty": "Wind Co",
        "price_usd_mwh": 55.0,
        "volume_mwh": 1200.0,
        "discount_rate": 0.08,
        "upfront_cost": 10000.0,
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
    }


def test_each_terms_problem_is_said_next_to_its_field(portal):
    data = {
        **TERMS,
        "price_usd_mwh": "",
        "volume_mwh": "",
        "capacity_factor": "1.5",
        "end_date": "2025-01-01",
    }

    response = portal("acme", "trader").post("/ppa/new/", {**data, "curve_key": "nope"})
    html = response.content.decode()

    assert response.status_code == 200  # the form again, with its messages
    assert (
        _error_next_to(html, "price_usd_mwh") == "a contract price is required (price_usd_mwh or ppa_price)"
    )
    assert _error_next_to(html, "volume_mwh") == "a volume is required (volume_mwh per month, or capacity_mw)"
    assert _error_next_to(html, "capacity_factor") == "capacity_factor must be &lt;= 1"
    assert _error_next_to(html, "end_date") == "end_date is before start_date"
    assert (
        'aria-invalid="true"' in html
        and 'aria-describedby="id_capacity_factor_help id_capacity_factor_error"' in html
    )
    with schema_context("acme"):
        assert not PpaContract.objects.exists()


def test_the_curve_field_suggests_licensed_power_curves_by_name(portal):
    key = german_power_keys()[0]

    html = portal("acme", "trader").get("/ppa/new/").content.decode()

    assert 'list="curve-suggestions"' in html
    assert f'<option value="{key}">German · fixed prices · BASE</option>' in html


def test_an_unlicensed_or_unknown_curve_is_said_next_to_the_curve(portal):
    response = portal("acme", "trader").post("/ppa/new/", {**TERMS, "curve_key": "nope"})

    assert response.status_code == 200  # the form again, with its messages
    assert _error_next_to(response.content.decode(), "curve_key") == "No such curve."


def test_editing_replaces_the_shown_terms_and_keeps_the_others(portal):
    contract = contract_make("acme", note="kept")
    client = portal("acme", "trader")

    form = client.get(f"/ppa/{contract.pk}/edit/").content.decode()
    response = client.post(f"/ppa/{contract.pk}/edit/", {**TERMS, "curve_key": contract.curve_key})

    assert 'value="Solar Co"' in form
    with schema_context("acme"):
        contract.refresh_from_db()
    assert response.status_code == 302
    assert contract.terms["counterparty"] == "Wind Co" and contract.terms["note"] == "kept"


def test_valuing_against_the_latest_curve_shows_npv_irr_and_the_cashflows(portal, lake):
    contract = contract_make("acme")
    client = portal("acme", "analyst")

    response = client.post(f"/ppa/{contract.pk}/value/", {"source": "curve"})

    with schema_context("acme"):
        valuation = PpaValuation.objects.get(contract=contract)
    assert response.status_code == 302
    assert response["Location"] == f"/ppa/{contract.pk}/valuations/{valuation.pk}/"
    page = client.get(response["Location"])
    html = page.content.decode()
    cashflows = page.context["cashflows"]
    assert valuation.source == "curve" and valuation.asof.isoformat() == "2025-07-03"  # the lake's latest
    assert len(cashflows) == valuation.months == 12
    assert f'<strong id="npv">{valuation.npv:.2f}</strong>' in html
    assert " as of 2025-07-03. " in html  # dates as everywhere on the portal, not the locale's "July 3, 2025"
    chart = page.context["chart"]
    assert chart["x_labels"][0] == "Jan-26" and len(chart["series"][0]["values"]) == 12
    assert chart["series"][0]["values"] == [float(row["cashflow"]) for row in cashflows]
    # the same numbers as the valuation module gives for the prices it used
    recomputed = value_ppa(
        contract_months=__import__("numpy").array(
            [row["period_start"] for row in cashflows], dtype="datetime64[M]"
        ),
        prices=[row["price"] for row in cashflows],
        terms=valuation.terms,
    )
    assert float(valuation.npv) == pytest.approx(recomputed.npv, abs=1e-6)
    history = client.get(f"/ppa/{contract.pk}/").content.decode()
    assert f'href="/ppa/{contract.pk}/valuations/{valuation.pk}/"' in history


def test_valuing_against_a_scenario_run(portal):
    run = run_make("acme", scenario_make("acme", "Carbon 2026"))
    contract = contract_make("acme")

    response = portal("acme", "analyst").post(
        f"/ppa/{contract.pk}/value/", {"source": "run", "run": str(run.pk)}
    )

    with schema_context("acme"):
        valuation = PpaValuation.objects.get(contract=contract)
    assert response.status_code == 302
    assert valuation.source == "scenario_run" and valuation.scenario_run_id == run.pk


def test_valuation_problems_are_said_next_to_their_field(portal):
    contract = contract_make("acme")
    client = portal("acme", "analyst")

    no_run = client.post(f"/ppa/{contract.pk}/value/", {"source": "run", "run": ""})
    no_prices = client.post(f"/ppa/{contract.pk}/value/", {"source": "curve", "asof": "2020-01-01"})
    bad_rate = client.post(f"/ppa/{contract.pk}/value/", {"source": "curve", "discount_rate": "-2"})

    assert no_run.status_code == no_prices.status_code == bad_rate.status_code == 200
    assert _error_next_to(no_run.content.decode(), "run") == "Choose the scenario run to value against."
    assert "no monthly prices on 2020-01-01" in _error_next_to(no_prices.content.decode(), "curve_key")
    assert _error_next_to(bad_rate.content.decode(), "discount_rate") == "discount_rate must be &gt; -1"
    with schema_context("acme"):
        assert not PpaValuation.objects.exists()


def test_viewers_cannot_value_and_analysts_cannot_write_terms(portal):
    contract = contract_make("acme")
    viewer, analyst = portal("acme", "viewer"), portal("acme", "analyst")

    assert viewer.post(f"/ppa/{contract.pk}/value/", {"source": "curve"}).status_code == 403
    assert analyst.get("/ppa/new/").status_code == 403
    assert analyst.post(f"/ppa/{contract.pk}/edit/", TERMS).status_code == 403
    page = viewer.get(f"/ppa/{contract.pk}/").content.decode()
    assert "Value contract" not in page and "Edit terms" not in page
    with schema_context("acme"):
        assert not PpaValuation.objects.exists()


def test_another_tenants_contracts_and_valuations_are_404(portal):
    contract = contract_make("acme")
    portal("acme", "analyst").post(f"/ppa/{contract.pk}/value/", {"source": "curve"})
    with schema_context("acme"):
        valuation = PpaValuation.objects.get()
    globex = portal("globex", "admin")

    for path in (
        f"/ppa/{contract.pk}/",
        f"/ppa/{contract.pk}/edit/",
        f"/ppa/{contract.pk}/valuations/{valuation.pk}/",
    ):
        assert globex.get(path).status_code == 404, path
    assert globex.post(f"/ppa/{contract.pk}/value/", {"source": "curve"}).status_code == 404
    assert "Solar Co" not in globex.get("/ppa/").content.decode()


def test_the_valuation_forms_curve_field_names_the_contracts_curve_instead_of_showing_its_key(portal):
    """The curve field is left empty (empty values the contract's own curve) and says which curve that is by
    its name; typing offers the tenant's power curves by name, as the contract form does."""
    contract = contract_make("acme")
    curve = Curve.objects.get(curve_key=contract.curve_key)
    name = " · ".join(part for part in (curve.location or curve.iso, curve.product, curve.block) if part)

    html = portal("acme", "analyst").get(f"/ppa/{contract.pk}/").content.decode()

    field = re.search(r'<input[^>]*name="curve_key"[^>]*>', html)
    assert field is not None
    assert 'value="' not in field.group(0)
    assert f'placeholder="The contract&#x27;s: {name}"' in field.group(0)
    assert 'list="curve-suggestions"' in field.group(0)
    options = re.findall(r'<option value="([0-9a-f]{64})">([^<]+)</option>', html)
    assert (contract.curve_key, name) in options
