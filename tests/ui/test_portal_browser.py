"""Signing in to a tenant's portal in a real browser, on the tenant's own subdomain."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.screens import sign_in as _sign_in

# django_db: pytest-django creates the test database only for sessions that have a test marked with it.
pytestmark = [pytest.mark.live, pytest.mark.django_db]


def test_a_member_signs_in_and_sees_their_workspace(committed_world, asgi_server, browser):
    acme = f"http://acme.localhost:{asgi_server.port}"
    member = committed_world.acme.members["analyst"]

    _sign_in(browser, acme, member.email, member.password)

    body = browser.find_element(By.TAG_NAME, "body").text
    assert browser.current_url == acme + "/"
    assert "Acme Energy" in browser.title
    assert "You are analyst in Acme Energy" in body
    browser.find_element(By.XPATH, "//button[text()='Sign out']").click()
    WebDriverWait(browser, 10).until(ec.url_to_be(acme + "/login/"))


def test_another_tenants_member_cannot_sign_in_here(committed_world, asgi_server, browser):
    globex = f"http://globex.localhost:{asgi_server.port}"
    acme_admin = committed_world.acme.members["admin"]

    _sign_in(browser, globex, acme_admin.email, acme_admin.password)

    assert browser.current_url == globex + "/login/"
    assert "not right for this workspace" in browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    browser.get(globex + "/")
    assert browser.current_url.startswith(globex + "/login/")
