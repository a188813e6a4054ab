"""An admin adds a webhook endpoint in a real browser: the secret is shown once with a Copy button, a ping
reaches a loopback receiver (verified with that secret) and its attempt is listed on the endpoint's page. A
second endpoint with a very long URL shows that nothing overflows. Screenshots at 1280 and 390 px; no console
error (the CSP holds)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django_tenants.utils import schema_context
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from apps.webhooks.models import WebhookDelivery
from apps.webhooks.services.delivery import webhook_deliver_due
from tests.support.screens import console_errors, screenshot
from tests.support.screens import sign_in as _sign_in
from tests.support.webhooks import Receiver, verified

pytestmark = [pytest.mark.live]

LONG_URL = (
    "http://127.0.0.1:9/" + "/".join(["integrations", "aurum", "energy-market-events"] * 4) + "?tenant=acme"
)

OVERFLOWS = "return document.documentElement.scrollWidth > document.documentElement.clientWidth;"


def _wait(browser: Any, condition: Any, timeout: float = 15) -> Any:
    return WebDriverWait(browser, timeout).until(condition)


def test_an_admin_adds_an_endpoint_pings_it_and_sees_the_attempt(committed_world, api, asgi_server, browser):
    acme = f"http://acme.localhost:{asgi_server.port}"
    admin = committed_world.acme.members["admin"]
    auth = committed_world.acme.auth("admin")
    long = api.post(
        "/api/v2/webhooks",
        {"url": LONG_URL, "events": ["curve.published"], "description": "Data lake loader"},
        format="json",
        **auth,
    )
    assert long.status_code == 201, long.content
    created_ids = [long.json()["data"]["id"]]
    try:
        with Receiver() as receiver:
            console_errors(browser)  # what earlier tests left in the log
            _sign_in(browser, acme, admin.email, admin.password)
            browser.get(acme + "/settings/webhooks/")
            browser.find_element(By.ID, "id_url").send_keys(receiver.url)
            browser.find_element(By.ID, "id_description").send_keys("Risk system")
            browser.find_element(
                By.CSS_SELECTOR, 'input[name="events"][value="scenario.run.succeeded"]'
            ).click()
            browser.find_element(By.CSS_SELECTOR, ".webhook-form button[type=submit]").click()
            secret = _wait(browser, ec.presence_of_element_located((By.ID, "new-secret"))).text
            created_ids.append(
                browser.find_element(By.CSS_SELECTOR, "form[action$='/ping/']")
                .get_attribute("action")
                .split("/")[-3]
            )
            assert secret.startswith("whsec_")
            assert browser.find_element(By.CSS_SELECTOR, "[data-copy='#new-secret']").text == "Copy"
            screenshot(browser, "settings-webhook-created")

            browser.find_element(By.CSS_SELECTOR, "form[action$='/ping/'] button").click()
            notice = _wait(browser, ec.presence_of_element_located((By.CSS_SELECTOR, ".messages .alert")))
            assert notice.text.startswith("Ping sent as message #1")
            # A session's Celery worker (it serves every queue) may be delivering the ping already, holding
            # the endpoint's lease: deliver here too, until the attempt is recorded by one of us.
            deadline = time.monotonic() + 30
            with schema_context("acme"):
                while not WebhookDelivery.objects.filter(endpoint_id=created_ids[-1]).exists():
                    assert time.monotonic() < deadline, "the ping was not delivered"
                    webhook_deliver_due()
                    time.sleep(0.2)
            browser.find_element(By.LINK_TEXT, "Refresh").click()
            row = _wait(browser, ec.presence_of_element_located((By.CSS_SELECTOR, "#delivery-rows tbody tr")))
            assert "webhook.ping" in row.text and "200" in row.text and "Redeliver" in row.text
            assert browser.find_elements(By.ID, "new-secret") == []
            browser.execute_script("window.scrollTo(0, 0);")
            screenshot(browser, "settings-webhook-detail")

            browser.get(acme + "/settings/webhooks/")
            rows = browser.find_elements(By.CSS_SELECTOR, ".webhooks-table tbody tr")
            assert [r.get_attribute("id") for r in rows] == [f"endpoint-{i}" for i in created_ids]
            assert "200" in rows[1].text
            screenshot(browser, "settings-webhooks")
            for width in (1280, 390):  # nothing wider than the window, the long URL included
                browser.set_window_size(width, 900)
                assert browser.execute_script(OVERFLOWS) is False, width
            browser.set_window_size(1280, 900)
            assert console_errors(browser) == []

        [ping] = receiver.received
        assert verified(secret, ping)["type"] == "webhook.ping"
    finally:
        for endpoint_id in created_ids:
            assert api.delete(f"/api/v2/webhooks/{endpoint_id}", **auth).status_code == 204
