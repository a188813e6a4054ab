"""The portal's frame: every page says that no request leaves the host (CSP), runs no inline script or style,
and shows the navigation the member's permissions allow."""

import re

import pytest

from tests.support.curves import D1, D3, a_curve
from tests.support.page_policy import POLICY, policy_of

PAGES = [
    "home",
    "catalog",
    "curve",
    "compare",
    "lineage",
    "history",
    "movers",
    "ingestion",
    "settings",
    "watchlist",
]


def _path(page: str) -> str:
    """The URL of each portal page this package tests (the other pages' helpers add theirs)."""
    curve = a_curve("EUGP", D3)
    return {
        "home": "/",
        "catalog": "/curves/?q=spark",
        "curve": f"/curves/{curve}/?asof={D3}",
        "compare": f"/curves/{curve}/?asof={D3}&compare={D1}&tenor=2026-01",
        "lineage": f"/curves/{curve}/lineage/?asof={D3}&tenor=2026-01",
        "history": f"/curves/{curve}/history/?tenor=2026-01",
        "movers": f"/curves/movers/?asof_a={D1}&asof_b={D3}",
        "ingestion": "/ingestion/",
        "settings": "/settings/",
        "watchlist": "/watchlist/",
    }[page]


@pytest.mark.parametrize("path", PAGES)
def test_every_portal_page_sends_a_policy_that_keeps_requests_on_the_host(portal, path):
    response = portal().get(_path(path))

    assert response.status_code == 200
    policy = policy_of(response["Content-Security-Policy"])
    assert {name: policy.get(name) for name in POLICY} == POLICY


@pytest.mark.parametrize("path", PAGES)
def test_no_portal_page_has_inline_script_or_style(portal, path):
    html = portal().get(_path(path)).content.decode()

    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts, "the page loads its scripts"
    for attributes, body in scripts:
        executable = 'type="application/json"' not in attributes
        assert not (executable and body.strip()), f"inline script: {body[:80]}"
        assert not executable or re.search(r'src="/static/', attributes), attributes
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers


def test_the_login_and_error_pages_share_the_look_and_the_policy(world, client):
    for path, status in (("/login/", 200), ("/no/such/page/", 404)):
        response = client.get(path, HTTP_HOST=world.acme.host)

        html = response.content.decode()
        assert response.status_code == status
        assert '<link rel="stylesheet" href="/static/portal/portal.css">' in html
        assert "<style" not in html
        assert "'self'" in response["Content-Security-Policy"]


def test_the_sign_in_fields_tell_password_managers_what_they_hold(world, client):
    html = client.get("/login/", HTTP_HOST=world.acme.host).content.decode()

    email = re.search(r"<input[^>]*name=\"email\"[^>]*>", html)
    password = re.search(r"<input[^>]*name=\"password\"[^>]*>", html)
    assert email is not None and 'autocomplete="username"' in email.group()
    assert password is not None and 'autocomplete="current-password"' in password.group()


def test_the_stylesheet_script_and_vendored_chart_library_are_served(client):
    for path, kind in (
        ("/static/portal/portal.css", "text/css"),
        ("/static/portal/portal.js", "text/javascript"),
        ("/static/vendor/uplot-1.6.32/uPlot.iife.min.js", "text/javascript"),
        ("/static/vendor/uplot-1.6.32/uPlot.min.css", "text/css"),
        ("/static/django_htmx/htmx.min.js", "text/javascript"),
    ):
        response = client.get(path)

        assert response.status_code == 200, path
        assert response["Content-Type"].startswith(kind), (path, response["Content-Type"])


@pytest.mark.parametrize(
    ("role", "sections"),
    [
        ("viewer", ["Home", "Curves", "Movers", "Ingestion", "Scenarios", "PPA"]),
        ("analyst", ["Home", "Curves", "Movers", "Ingestion", "Scenarios", "PPA", "Settings"]),
        ("admin", ["Home", "Curves", "Movers", "Ingestion", "Scenarios", "PPA", "Settings"]),
    ],
)
def test_the_navigation_shows_the_sections_the_role_may_open(portal, role, sections):
    html = portal("acme", role).get("/").content.decode()

    nav = re.search(r'<nav id="site-nav".*?</nav>', html, flags=re.S)
    assert nav is not None
    assert re.findall(r'<li><a href="[^"]+"[^>]*>([^<]+)</a></li>', nav.group(0)) == sections
    assert '<a href="/" aria-current="page">Home</a>' in nav.group(0)
    assert 'href="#main"' in html and '<main id="main"' in html  # skip link to the main landmark


def test_a_page_asks_to_sign_in_and_comes_back_after(world, client):
    response = client.get("/", HTTP_HOST=world.acme.host)

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"
    signed_in = client.post(
        "/login/?next=/",
        {"email": world.acme.members["analyst"].email, "password": world.acme.members["analyst"].password},
        HTTP_HOST=world.acme.host,
    )
    assert signed_in.status_code == 302
    assert signed_in["Location"] == "/"


def test_sign_in_never_redirects_to_another_host(world, client):
    member = world.acme.members["analyst"]
    response = client.post(
        "/login/?next=https://evil.example/",
        {"email": member.email, "password": member.password},
        HTTP_HOST=world.acme.host,
    )

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_member_of_another_tenant_is_sent_to_sign_in_here(world, client):
    from apps.accounts.models import User

    client.force_login(User.objects.get(email=world.acme.members["admin"].email))
    response = client.get("/", HTTP_HOST=world.globex.host)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
