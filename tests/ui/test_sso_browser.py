"""Single sign-on in a real browser: a member of the ops tenant clicks the SSO button on the sign-in page,
signs in and consents at the real provider (django-oauth-toolkit on loopback), comes back signed in with the
role their provider group maps to; an admin checks the issuer on /settings/sso/. Screenshots at 1280 and
390 px; no console error (the CSP holds)."""

from __future__ import annotations

from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from apps.accounts.models import Membership, TenantSsoConfig
from tests.support.oidc import sso_configure
from tests.support.screens import console_errors, screenshot
from tests.support.screens import sign_in as password_sign_in

pytestmark = [pytest.mark.live]


def _wait(browser: Any, condition: Any, timeout: float = 15) -> Any:
    return WebDriverWait(browser, timeout).until(condition)


def test_a_member_signs_in_through_the_provider_and_an_admin_checks_the_issuer(
    committed_world, asgi_server, browser, oidc_provider
):
    ops = f"http://ops.localhost:{asgi_server.port}"
    viewer = committed_world.ops.members["viewer"]
    admin = committed_world.ops.members["admin"]
    oidc_provider.client_app(
        client_id="ops-portal", secret="ops-portal-secret", redirect_uri=f"{ops}/sso/callback/"
    )
    oidc_provider.user(viewer.email, "provider-pass-ui", ["aurum-analysts"])
    sso_configure(
        "ops",
        issuer=oidc_provider.issuer(),
        client_id="ops-portal",
        client_secret="ops-portal-secret",
        button_label="Sign in with Ops ID",
    )
    try:
        console_errors(browser)  # what earlier tests left in the log
        browser.get(ops + "/login/")
        browser.delete_all_cookies()
        browser.get(ops + "/login/")
        button = browser.find_element(By.ID, "sso-signin")
        assert button.text == "Sign in with Ops ID"
        screenshot(browser, "sso-signin")

        button.click()
        _wait(browser, ec.presence_of_element_located((By.ID, "id_username"))).send_keys(viewer.email)
        browser.find_element(By.ID, "id_password").send_keys("provider-pass-ui")
        browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        _wait(browser, ec.element_to_be_clickable((By.NAME, "allow"))).click()
        _wait(browser, ec.url_to_be(ops + "/"))

        assert "Sign in" not in browser.title
        assert Membership.objects.get(pk=viewer.membership_id).role == "analyst"
        # The test provider's own pages have no favicon; Aurum's must log nothing.
        assert [e for e in console_errors(browser) if not e.startswith(oidc_provider.url("/"))] == []

        password_sign_in(browser, ops, admin.email, admin.password)
        browser.get(ops + "/settings/sso/")
        browser.find_element(By.ID, "check-button").click()
        result = _wait(browser, ec.presence_of_element_located((By.ID, "check-result")))
        assert result.text.startswith("Found an OpenID provider.")
        assert browser.find_element(By.ID, "sso-state").text == "enabled"
        screenshot(browser, "settings-sso")
        assert console_errors(browser) == []
    finally:
        TenantSsoConfig.objects.filter(tenant__schema_name="ops").delete()
        Membership.objects.filter(pk=viewer.membership_id).update(role="viewer")
