"""An analyst follows a curve in a real browser; an operator uploads the next day, a real worker ingests it,
and the notice banner appears on the analyst's home page without a reload, the watchlist panel shows the move
and the notice, which the analyst marks read. Screenshots at 1280 and 390 px; no console error (the CSP
holds)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.screens import console_errors, screenshot
from tests.support.screens import sign_in as _sign_in
from tests.support.watch import DAY_B, watched_curve, watched_workbook

pytestmark = [pytest.mark.live]


def _wait(browser: Any, condition: Any, timeout: float = 15) -> Any:
    return WebDriverWait(browser, timeout).until(condition)


def test_follow_a_curve_then_the_next_day_s_notice_appears_live(
    committed_world, api, asgi_server, celery_worker, browser
):
    acme = f"http://acme.localhost:{asgi_server.port}"
    member = committed_world.acme.members["analyst"]
    with watched_curve() as (curve_key, run_ids):
        console_errors(browser)  # what earlier tests left in the log
        _sign_in(browser, acme, member.email, member.password)

        browser.get(f"{acme}/curves/{curve_key}/")
        follow = _wait(browser, ec.element_to_be_clickable((By.CSS_SELECTOR, "#follow-control button")))
        assert browser.find_element(By.ID, "follow-threshold").get_attribute("value") == "5"
        follow.click()
        following = _wait(
            browser, ec.presence_of_element_located((By.CSS_SELECTOR, "#follow-control .badge-ok"))
        )
        assert following.text == "Following (threshold 5 %)"
        screenshot(browser, "watchlist-follow")

        browser.get(acme + "/")
        panel = _wait(browser, ec.presence_of_element_located((By.CSS_SELECTOR, "#watchlist-panel table")))
        # The followed curve is listed (its move so far depends on what other tests of this database loaded).
        assert "Dutch_TTF" in panel.text and "2031-01-07" not in panel.text
        assert "No notices." in browser.find_element(By.ID, "watchlist-panel").text
        _wait(browser, lambda b: b.execute_script("return window.aurumWatchlist === true"))

        upload = api.post(
            "/api/v2/ingest/runs",
            {"file": SimpleUploadedFile(f"EOD_EUGP_{DAY_B:%Y%m%d}_1430.xlsx", watched_workbook(DAY_B, 1.1))},
            format="multipart",
            **committed_world.ops.auth("trader"),
        )
        assert upload.status_code == 202, upload.content
        run_ids.append(upload.json()["data"]["id"])

        banner = _wait(browser, ec.visibility_of_element_located((By.CSS_SELECTOR, ".notice-banner")), 60)
        assert "(10.00 %)" in banner.text and "2031-01-06 → 2031-01-07" in banner.text
        # the panel refreshed itself on the notice: the move and the unread notice, without a reload
        _wait(browser, lambda b: "1 unread" in b.find_element(By.ID, "watchlist-panel").text)
        panel_text = browser.find_element(By.ID, "watchlist-panel").text
        assert "2031-01-06 → 2031-01-07" in panel_text and "(10.00 %)" in panel_text
        screenshot(browser, "watchlist-notice-live")

        banner.find_element(By.TAG_NAME, "button").click()  # Dismiss
        _wait(browser, ec.invisibility_of_element_located((By.CSS_SELECTOR, ".notice-banner")))
        browser.find_element(By.CSS_SELECTOR, "#watchlist-panel .notice form button").click()
        _wait(browser, lambda b: "unread" not in b.find_element(By.ID, "watchlist-panel").text)

        browser.get(acme + "/watchlist/")
        assert "Watchlist" in browser.find_element(By.TAG_NAME, "h1").text
        screenshot(browser, "watchlist-page")
        assert console_errors(browser) == []
