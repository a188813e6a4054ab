"""The operations pages in a real browser, against the live server and a real Celery worker: an operator
uploads a real EOD workbook and watches its run succeed live; a viewer cannot reach settings; an admin
invites a member, who accepts from the emailed link and signs in. Every page visited is saved under
var/screenshots/ at 1280 px and 390 px wide."""

import re
import time

import pytest
from django.core import mail
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.paths import EOD_DIR
from tests.support.screens import screenshot
from tests.support.screens import sign_in as _sign_in

pytestmark = [pytest.mark.live, pytest.mark.django_db]

WORKBOOK = (EOD_DIR / "EOD_EUGP_20250821_1430.xlsx").resolve()  # a day no other test loads


def _shoot(browser, name: str) -> None:
    """Save the whole page at 1280 px and at 390 px (a phone); the page logged no error to the console."""
    assert _console_errors(browser) == [], name
    screenshot(browser, f"ops-{name}")


def _console_errors(browser) -> list[str]:
    """The browser console's errors since the last call (CSP violations, script errors, failed loads), but
    the one a page answered with on purpose (the 403 a viewer gets)."""
    return [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" and "status of 403" not in entry["message"]
    ]


def _sign_out(browser) -> None:
    browser.find_element(By.XPATH, "//button[text()='Sign out']").click()
    WebDriverWait(browser, 10).until(ec.url_contains("/login/"))


def test_an_operator_uploads_a_workbook_and_sees_the_run_succeed_live(
    committed_world, asgi_server, celery_worker, browser
):
    from apps.curves.models import Curve
    from apps.ingestion.models import IngestRun

    ops = f"http://ops.localhost:{asgi_server.port}"
    trader = committed_world.ops.members["trader"]
    catalog = list(Curve.objects.all())  # restored after: the catalog is shared by every test
    before = set(IngestRun.objects.values_list("pk", flat=True))
    try:
        _sign_in(browser, ops, trader.email, trader.password)
        browser.get(ops + "/ingestion/")
        _shoot(browser, "ingestion-before")
        browser.find_element(By.ID, "id_files").send_keys(str(WORKBOOK))
        browser.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()

        # The upload's own line: a progress bar, then the run that took the file.
        item = WebDriverWait(browser, 30).until(
            ec.visibility_of_element_located((By.CSS_SELECTOR, "#upload-list .upload-done"))
        )
        assert WORKBOOK.name in item.text and "Queued." in item.text
        assert item.find_element(By.TAG_NAME, "progress").get_attribute("value") == "100"
        run_id = int(re.search(r"Open run #(\d+)", item.text).group(1))  # type: ignore[union-attr]

        # The runs list refreshes itself (htmx polling) until the worker has finished.
        row = f"//div[@id='runs']//tr[td/a[text()='#{run_id}']]"
        started = time.monotonic()
        WebDriverWait(browser, 90).until(ec.text_to_be_present_in_element((By.XPATH, row), "succeeded"))
        seen_after = time.monotonic() - started
        cells = browser.find_element(By.XPATH, row).find_elements(By.TAG_NAME, "td")
        run = IngestRun.objects.get(pk=run_id)
        assert run.status == "succeeded" and run.source == "portal"
        assert [c.text for c in cells[1:4]] == [WORKBOOK.name, "vendor:EUGP", "2025-08-21"]
        assert cells[5].text == str(run.rows_published) and run.rows_published > 0
        assert "A run is in progress" not in browser.find_element(By.ID, "runs").text  # polling stopped
        _shoot(browser, "ingestion-after")
        print(f"run {run_id} shown as succeeded {seen_after:.1f} s after the upload answered")

        browser.find_element(By.XPATH, f"{row}/td/a").click()
        WebDriverWait(browser, 10).until(ec.url_contains(f"/ingestion/runs/{run_id}/"))
        stages = browser.find_elements(By.CSS_SELECTOR, "ol.stages li.stage-done")
        assert [s.find_element(By.CLASS_NAME, "stage-name").text.lower() for s in stages] == [
            "read",
            "parse",
            "enrich",
            "validate",
            "write",
            "catalog",
        ]
        _shoot(browser, "run-detail")
        _sign_out(browser)
    finally:
        IngestRun.objects.exclude(pk__in=before).delete()
        Curve.objects.all().delete()
        Curve.objects.bulk_create(catalog)


def test_a_viewer_cannot_reach_settings(committed_world, asgi_server, browser):
    acme = f"http://acme.localhost:{asgi_server.port}"
    viewer = committed_world.acme.members["viewer"]

    _sign_in(browser, acme, viewer.email, viewer.password)
    nav = browser.find_element(By.ID, "site-nav").text
    browser.get(acme + "/settings/")

    assert "Settings" not in nav and "Ingestion" in nav
    assert "403" in browser.find_element(By.TAG_NAME, "main").text
    _shoot(browser, "settings-viewer-403")
    browser.get(acme + "/ingestion/")
    assert browser.find_elements(By.ID, "upload-form") == []
    assert "vendor:EUGP" in browser.find_element(By.CLASS_NAME, "freshness-table").text
    _shoot(browser, "ingestion-customer")
    _sign_out(browser)


def test_an_admin_invites_a_member_who_accepts_and_signs_in(committed_world, asgi_server, browser):
    from apps.accounts.models import Invitation, User

    acme = f"http://acme.localhost:{asgi_server.port}"
    admin = committed_world.acme.members["admin"]
    email, password = "new.analyst@example.com", "correct horse battery"
    mail.outbox.clear()
    try:
        _sign_in(browser, acme, admin.email, admin.password)
        browser.find_element(By.LINK_TEXT, "Settings").click()
        WebDriverWait(browser, 10).until(ec.url_to_be(acme + "/settings/"))
        _shoot(browser, "settings-admin")
        browser.find_element(By.ID, "id_email").send_keys(email)
        browser.find_element(By.CSS_SELECTOR, "#id_role option[value=analyst]").click()
        browser.find_element(By.XPATH, "//button[text()='Send invitation']").click()
        WebDriverWait(browser, 10).until(
            ec.text_to_be_present_in_element((By.TAG_NAME, "main"), f"Invitation sent to {email} as analyst.")
        )
        _shoot(browser, "settings-invited")
        _sign_out(browser)

        (message,) = mail.outbox
        link = re.search(r"http://\S+/invitations/\S+/", str(message.body))
        assert message.to == [email] and link is not None
        assert link.group(0).startswith(acme + "/invitations/")
        browser.get(link.group(0))
        _shoot(browser, "invitation-accept")
        browser.find_element(By.ID, "id_full_name").send_keys("Nova Analyst")
        browser.find_element(By.ID, "id_password").send_keys(password)
        browser.find_element(By.ID, "id_password_again").send_keys(password)
        browser.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
        WebDriverWait(browser, 10).until(ec.url_to_be(acme + "/"))
        assert email in browser.find_element(By.CLASS_NAME, "user-name").text
        _sign_out(browser)

        _sign_in(browser, acme, email, password)
        assert browser.current_url == acme + "/"
        browser.get(acme + "/settings/")
        assert "API tokens" in browser.find_element(By.TAG_NAME, "main").text  # an analyst manages own tokens
        _sign_out(browser)
    finally:
        from django_tenants.utils import schema_context

        with schema_context("acme"):  # the user's rows in acme's tables (scenarios they made) let go too
            User.objects.filter(email=email).delete()
        Invitation.objects.filter(email=email).delete()
