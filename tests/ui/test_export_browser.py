"""An admin exports the whole tenant in a real browser: the request is queued, a real worker writes the
archive, the table refreshes by itself (htmx) to a ready export with its download link. Screenshots at
1280 and 390 px; no console error (the CSP holds)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from apps.exports.models import TenantExport
from tests.support.screens import console_errors, screenshot
from tests.support.screens import sign_in as _sign_in

pytestmark = [pytest.mark.live]


def _wait(browser: Any, condition: Any, timeout: float = 15) -> Any:
    return WebDriverWait(browser, timeout).until(condition)


def test_an_admin_exports_the_tenant_and_sees_it_ready(committed_world, asgi_server, browser, celery_worker):
    acme = f"http://acme.localhost:{asgi_server.port}"
    admin = committed_world.acme.members["admin"]
    before = set(TenantExport.objects.filter(tenant_id=committed_world.acme.pk).values_list("pk", flat=True))
    try:
        console_errors(browser)  # what earlier tests left in the log
        _sign_in(browser, acme, admin.email, admin.password)
        browser.get(acme + "/settings/export/")
        browser.find_element(By.CSS_SELECTOR, ".export-request button[type=submit]").click()
        notice = _wait(browser, ec.presence_of_element_located((By.CSS_SELECTOR, ".messages .alert")))
        assert notice.text.startswith("Export requested")

        link = _wait(
            browser,
            ec.presence_of_element_located((By.CSS_SELECTOR, ".exports-table a[href$='/download']")),
            timeout=180,
        )
        (created,) = (
            set(TenantExport.objects.filter(tenant_id=committed_world.acme.pk).values_list("pk", flat=True))
            - before
        )
        assert link.get_attribute("href").endswith(f"/api/v2/exports/{created}/download")
        row = browser.find_element(By.ID, f"export-{created}")
        assert "ready" in row.text and admin.email in row.text
        button = browser.find_element(By.CSS_SELECTOR, ".export-request button[type=submit]")
        assert button.is_enabled() and "being prepared" not in browser.page_source
        screenshot(browser, "settings-export-ready")
        assert console_errors(browser) == []
    finally:
        for export in TenantExport.objects.filter(tenant_id=committed_world.acme.pk).exclude(pk__in=before):
            if export.file_path:
                Path(export.file_path).unlink(missing_ok=True)
            export.delete()
