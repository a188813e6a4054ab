"""The scenario and PPA flow in a real browser against the live server, a real Celery worker and the
tenant's event websocket: a trader writes a scenario and a PPA contract; an analyst runs the scenario, watches
its progress live, reads the P10/P50/P90 chart, values the contract (NPV, IRR, cashflow chart); a globex user
never sees acme's scenario. Every page visited is saved under var/screenshots/ (1280 px and 390 px)."""

import json
import threading
import time
from datetime import date

import pyarrow.compute as pc
import pytest
from django_tenants.utils import schema_context
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.support.paths import EOD_DIR
from tests.support.screens import gone
from tests.support.screens import screenshot as shoot
from tests.support.slices import ingest_slice, read_slice

pytestmark = [pytest.mark.live, pytest.mark.django_db]

# An as-of no other test publishes: the run reads exactly this slice of the shared test lakehouse.
DAY = date(2025, 3, 3)
EUGP = EOD_DIR / "EOD_EUGP_20250912_1430.xlsx"


@pytest.fixture(scope="module")
def german_power(django_db_setup, django_db_blocker):
    """EUGP's German BASE power curve published on DAY and recorded in the catalog (removed afterwards)."""
    from apps.curves.models import Curve
    from apps.curves.services import curve_catalog_upsert

    with django_db_blocker.unblock():
        ingest_slice(EUGP, DAY)
        rows = read_slice("vendor:EUGP", DAY)
        mine = rows.filter(
            pc.and_(
                pc.and_(pc.equal(rows.column("location"), "German"), pc.equal(rows.column("block"), "BASE")),
                pc.equal(rows.column("sheet_name"), "Fixed Prices - Mid"),
            )
        )
        keys = sorted(set(mine.column("curve_key").to_pylist()))
        existed = set(Curve.objects.filter(curve_key__in=keys).values_list("curve_key", flat=True))
        curve_catalog_upsert(published=mine, dataset="vendor:EUGP", vendor="EUGP")
        yield keys[0]
        Curve.objects.filter(curve_key__in=set(keys) - existed).delete()


def _sign_in(browser, url: str, member) -> None:
    browser.get(url + "/login/")
    browser.delete_all_cookies()
    browser.get(url + "/login/")
    browser.find_element(By.ID, "id_email").send_keys(member.email)
    browser.find_element(By.ID, "id_password").send_keys(member.password)
    form = browser.find_element(By.TAG_NAME, "form")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10).until(gone(form))


def _submit(browser, selector: str) -> None:
    """Click a submit button and wait for the next page."""
    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.CSS_SELECTOR, selector).click()
    WebDriverWait(browser, 30).until(gone(page))


def _type(browser, element_id: str, text: str) -> None:
    field = browser.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(text)


def _set(browser, element_id: str, value: str) -> None:
    """Set a date input (its typed format follows the browser's locale)."""
    browser.execute_script(
        "arguments[0].value = arguments[1]", browser.find_element(By.ID, element_id), value
    )


def _console_errors(browser) -> list[str]:
    return [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def _chart_points(browser, spec_id: str) -> tuple[int, int]:
    """(x positions in the chart's spec, canvases uPlot drew) of one chart."""
    spec = json.loads(browser.find_element(By.ID, spec_id).get_attribute("data-chart"))
    canvases = browser.find_elements(By.CSS_SELECTOR, f"#{spec_id} canvas")
    return len(spec["x_labels"]), len(canvases)


def test_a_scenario_is_written_run_live_and_a_ppa_valued(
    committed_world, asgi_server, celery_worker, browser, german_power
):
    acme = f"http://acme.localhost:{asgi_server.port}"
    globex = f"http://globex.localhost:{asgi_server.port}"
    name = f"Carbon tax {time.time_ns()}"
    browser.get_log("browser")  # the session's browser: forget what earlier tests logged
    try:
        # --- a trader writes the scenario, driver by driver ---
        _sign_in(browser, acme, committed_world.acme.members["trader"])
        browser.get(acme + "/scenarios/")
        shoot(browser, "work-scenarios-list")
        browser.find_element(By.LINK_TEXT, "New scenario").click()
        _type(browser, "id_name", name)
        _type(browser, "id_curve_keys", german_power)
        _set(browser, "id_base_asof", DAY.isoformat())
        Select(browser.find_element(By.ID, "add-driver")).select_by_value("policy")
        _submit(browser, "button[name=add]")
        _type(browser, "id_a-0-name", "carbon")
        _type(browser, "id_a-0-policy_name", "carbon_tax")
        _type(browser, "id_a-0-start_year", "2026")
        Select(browser.find_element(By.ID, "add-driver")).select_by_value("stochastic")
        _submit(browser, "button[name=add]")
        Select(browser.find_element(By.ID, "id_a-1-distribution_type")).select_by_value("lognormal")
        _type(browser, "id_a-1-name", "gas")
        _type(browser, "id_a-1-parameters", '{"sigma": 0.4')  # a typo: shown next to the field
        _type(browser, "id_a-1-base_driver", "{}")
        _submit(browser, "button.button[name=save]")
        error = browser.find_element(By.ID, "id_a-1-parameters_error").text
        assert error.startswith("This is not valid JSON"), error
        shoot(browser, "work-scenario-form-errors")
        _type(browser, "id_a-1-parameters", '{"sigma": 0.4}')
        _submit(browser, "button.button[name=save]")
        assert browser.find_element(By.TAG_NAME, "h1").text.startswith(name)
        scenario_url = browser.current_url
        shoot(browser, "work-scenario-detail")

        browser.get(acme + "/ppa/new/")
        _type(browser, "id_counterparty", "Solar Co")
        _type(browser, "id_price_usd_mwh", "60")
        _type(browser, "id_volume_mwh", "1000")
        _type(browser, "id_discount_rate", "0.08")
        _type(browser, "id_upfront_cost", "50000")
        _set(browser, "id_start_date", "2026-01-01")
        _set(browser, "id_end_date", "2026-12-31")
        _type(browser, "id_curve_key", german_power)
        shoot(browser, "work-ppa-form")
        _submit(browser, "form button.button")
        contract_url = browser.current_url

        # --- an analyst runs it and watches it live ---
        _sign_in(browser, acme, committed_world.acme.members["analyst"])
        browser.get(scenario_url)
        _type(browser, "id_n_paths", "100000")
        _type(browser, "id_seed", "7")
        _submit(browser, "form[action$='/run/'] button")
        seen: list[tuple[str, str, str]] = []
        deadline = time.monotonic() + 120
        shot = False
        while True:
            assert time.monotonic() < deadline, f"no result after 120 s; seen {seen}"
            try:
                if browser.find_elements(By.ID, "result-chart"):
                    break
                if browser.find_elements(By.ID, "run-live"):
                    seen.append(
                        (
                            browser.find_element(By.ID, "run-state").text,
                            browser.find_element(By.ID, "run-progress").get_attribute("value"),
                            browser.find_element(By.ID, "run-channel").text,
                        )
                    )
                    if not shot:
                        shoot(browser, "work-run-live")
                        shot = True
            except WebDriverException:  # the page reloaded between two reads
                pass
            time.sleep(0.1)
        print("live states seen:", seen)
        assert seen, "the run page showed no live progress"
        assert any(channel == "Live updates on" for _, _, channel in seen), seen  # the websocket carried it
        WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#result-chart canvas"))
        x_positions, canvases = _chart_points(browser, "result-chart")
        table_rows = browser.find_elements(By.CSS_SELECTOR, "#result-table tbody tr")
        assert canvases >= 1 and x_positions == len(table_rows) > 12
        assert "carbon" in browser.find_element(By.CSS_SELECTOR, "table.attribution").text
        shoot(browser, "work-run-result")
        # another tenor type: htmx swaps the result in place, the URL follows, the chart is drawn again
        result = browser.find_element(By.ID, "result-chart")
        Select(browser.find_element(By.ID, "tenor")).select_by_value("QUARTER")
        WebDriverWait(browser, 15).until(gone(result))
        WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#result-chart canvas"))
        quarters, _ = _chart_points(browser, "result-chart")
        assert "tenor=QUARTER" in browser.current_url
        assert (
            0
            < quarters
            == len(browser.find_elements(By.CSS_SELECTOR, "#result-table tbody tr"))
            < x_positions
        )
        progress = [float(value) for _, value, _ in seen if value]
        assert progress == sorted(progress), seen  # progress only moves forward

        # --- ... and values the PPA against the latest curve ---
        browser.get(contract_url)
        shoot(browser, "work-ppa-contract")
        _submit(browser, "form[action$='/value/'] button.button")
        npv = browser.find_element(By.ID, "npv").text
        irr = browser.find_element(By.ID, "irr").text
        assert npv and npv != "n/a" and irr
        WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#cashflow-chart canvas"))
        x_positions, _ = _chart_points(browser, "cashflow-chart")
        assert x_positions == len(browser.find_elements(By.CSS_SELECTOR, "#cashflow-table tbody tr")) == 12
        shoot(browser, "work-ppa-valuation")
        browser.get(acme + "/ppa/")
        listed = browser.find_element(By.TAG_NAME, "main").text
        assert f"{round(float(npv)):.0f} EUR" in listed, (npv, listed)
        shoot(browser, "work-ppa-list")
        assert _console_errors(browser) == []

        # --- a globex user never sees it ---
        _sign_in(browser, globex, committed_world.globex.members["admin"])
        browser.get(globex + scenario_url.split(str(asgi_server.port), 1)[1])
        assert "404" in browser.title or "not found" in browser.find_element(By.TAG_NAME, "body").text.lower()
        shoot(browser, "work-globex-404")
        browser.get(globex + "/scenarios/")
        assert name not in browser.find_element(By.TAG_NAME, "main").text
    finally:
        # In a thread of its own: its connection commits, while this test's runs inside the transaction
        # the django_db mark opens (rolled back at the end, which would bring the scenario back).
        cleanup = threading.Thread(target=_remove, args=(name, german_power))
        cleanup.start()
        cleanup.join()


def _remove(name: str, curve_key: str) -> None:
    """Delete what the flow made in acme (scenario, runs, outputs, contract, valuations)."""
    from django.db import connection

    from apps.ppa.models import PpaContract
    from apps.ppa.services import ppa_contract_delete
    from apps.scenarios.models import Scenario
    from apps.scenarios.services.scenarios import scenario_delete
    from tenants.models import Tenant

    try:
        tenant = Tenant.objects.get(schema_name="acme")
        with schema_context("acme"):
            for scenario in Scenario.objects.filter(name=name):
                scenario_delete(scenario=scenario, tenant=tenant)
            for contract in PpaContract.objects.filter(terms__counterparty="Solar Co", curve_key=curve_key):
                ppa_contract_delete(tenant=tenant, contract=contract)
    finally:
        connection.close()
