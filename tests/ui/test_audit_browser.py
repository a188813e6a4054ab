"""An admin opens the audit log in a real browser: the scenario a token just created is there with the token
as its actor; filtering by action swaps the table in place (htmx) and keeps the URL. Screenshots at 1280 and
390 px; no console error (the CSP holds)."""

from __future__ import annotations

from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.screens import console_errors, gone, screenshot
from tests.support.screens import sign_in as _sign_in

pytestmark = [pytest.mark.live]


def _wait(browser: Any, condition: Any, timeout: float = 15) -> Any:
    return WebDriverWait(browser, timeout).until(condition)


def test_an_admin_reads_and_filters_the_audit_log(committed_world, api, asgi_server, browser):
    acme = f"http://acme.localhost:{asgi_server.port}"
    admin = committed_world.acme.members["admin"]
    created = api.post(
        "/api/v2/scenarios", {"name": "Browser audit"}, format="json", **committed_world.acme.auth("trader")
    )
    assert created.status_code == 201, created.content
    scenario_id = created.json()["data"]["id"]
    try:
        console_errors(browser)  # what earlier tests left in the log
        _sign_in(browser, acme, admin.email, admin.password)
        browser.get(acme + "/settings/audit/")
        table = _wait(browser, ec.presence_of_element_located((By.CSS_SELECTOR, "#audit-rows table")))
        first = table.find_element(By.CSS_SELECTOR, "tbody tr")
        assert "scenario.create" in first.text and "trader token (trader@acme.example)" in first.text
        screenshot(browser, "settings-audit")

        browser.find_element(By.ID, "id_action").send_keys("token.create")
        browser.find_element(By.CSS_SELECTOR, ".audit-filters button[type=submit]").click()
        _wait(browser, gone(table))
        rows = browser.find_elements(By.CSS_SELECTOR, "#audit-rows tbody tr")
        assert rows and all("token.create" in row.text for row in rows)
        assert browser.current_url.endswith("action=token.create&actor=&resource=&start=&end=")
        assert (
            browser.find_element(By.TAG_NAME, "h1").text == "Audit log"
        )  # the page stayed, the table changed
        screenshot(browser, "settings-audit-filtered")
        assert console_errors(browser) == []
    finally:
        assert (
            api.delete(f"/api/v2/scenarios/{scenario_id}", **committed_world.acme.auth("trader")).status_code
            == 204
        )
