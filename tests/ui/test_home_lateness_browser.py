"""The portal home in a real browser shows one notion of lateness: each vendor dataset's status in the
datasets table is its contract's, as under "Publication SLAs" (decision 0041). Screenshot: home-lateness."""

import pytest
from selenium.webdriver.common.by import By

from tests.support.screens import console_errors, screenshot
from tests.support.screens import sign_in as _sign_in

pytestmark = [pytest.mark.live, pytest.mark.django_db]


def test_the_home_shows_the_contract_status_of_each_dataset(committed_world, asgi_server, browser):
    acme = f"http://acme.localhost:{asgi_server.port}"
    member = committed_world.acme.members["analyst"]

    console_errors(browser)  # what earlier tests left in the log
    _sign_in(browser, acme, member.email, member.password)
    table = {
        row.find_element(By.TAG_NAME, "th").text: row.find_elements(By.TAG_NAME, "td")[-1].text
        for row in browser.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=datasets-title] tbody tr")
    }
    slas = {
        row.find_element(By.TAG_NAME, "th").text: row.find_elements(By.TAG_NAME, "td")[0].text
        for row in browser.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=slas-title] tbody tr")
    }
    paths = screenshot(browser, "home-lateness")

    assert sorted(table) == ["vendor:EUGP", "vendor:PW", "vendor:RP", "vendor:SIMPLE"]
    assert {name: status.split()[0] for name, status in table.items()} == {name: slas[name] for name in table}
    assert "business day" not in browser.find_element(By.TAG_NAME, "main").text
    assert all(path.exists() for path in paths)
    assert console_errors(browser) == []
