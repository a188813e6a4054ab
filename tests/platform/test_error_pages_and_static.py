"""What a browser gets: static files (admin CSS, the API docs UI) from our own server, a docs page that loads
nothing from another host (Aurum works air-gapped), and portal error pages in the portal's look, never
Django's debug page."""

import re
from pathlib import Path

import django.contrib.admin
from django.test import RequestFactory

from aurum.api.problems import api_server_error


def test_the_admin_css_is_served(api):
    response = api.get("/static/admin/css/base.css")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    shipped = Path(django.contrib.admin.__file__).parent / "static" / "admin" / "css" / "base.css"
    assert b"".join(response.streaming_content) == shipped.read_bytes()


def test_the_api_docs_page_loads_only_same_origin_assets_and_they_are_served(world, api):
    page = api.get("/api/v2/docs/")

    html = page.content.decode()
    assert page.status_code == 200
    assert re.findall(r"https?://|//[a-z0-9.-]+\.[a-z]", html) == []  # no absolute or protocol-relative URL
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sorted(assets) == [
        "/static/drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
    ]
    for asset in assets:
        assert api.get(asset).status_code == 200, asset
    assert '"validatorUrl": null' in html  # Swagger UI's default badge comes from validator.swagger.io
    assert api.get("/api/v2/schema/").status_code == 200


def test_an_unknown_portal_page_is_the_portal_404_page(world, api):
    response = api.get("/no/such/page/", HTTP_HOST=world.acme.host)

    html = response.content.decode()
    assert response.status_code == 404
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "<h1>Page not found</h1>" in html
    assert '<span class="tenant-name">Acme Energy</span></header>' in html
    assert "<code>/no/such/page/</code>" in html
    assert "Traceback" not in html and "DEBUG" not in html and "URLconf" not in html


def test_an_unknown_api_path_is_a_problem_not_a_page(world, api):
    response = api.get("/api/v2/no-such-thing", **world.acme.auth())

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["title"] == "Not Found"


def test_the_portal_500_page_has_the_portal_look_and_the_request_id():
    response = api_server_error(RequestFactory().get("/some/page/"))

    html = response.content.decode()
    assert response.status_code == 500
    assert "<h1>Something went wrong</h1>" in html
    assert '<span class="tenant-name"></span></header>' in html
    assert "<title>Something went wrong · Aurum</title>" in html


def test_a_write_to_a_health_or_metrics_endpoint_is_a_405_problem_not_a_csrf_page(world, api):
    for path in ("/health/live", "/health/ready", "/metrics"):
        response = api.post(path, HTTP_HOST="localhost")

        assert response.status_code == 405, path
        assert response["Content-Type"] == "application/problem+json"
        assert response["Allow"] == "GET, HEAD"
        assert response.json()["status"] == 405


def test_a_portal_form_posted_without_its_csrf_token_is_the_portal_403_page(world):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        "/login/", {"email": "x@example.com", "password": "x"}, HTTP_HOST=world.acme.host
    )

    html = response.content.decode()
    assert response.status_code == 403
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "<h1>You may not do this</h1>" in html
    assert "CSRF" not in html and "Traceback" not in html


def test_a_json_client_refused_by_csrf_gets_a_problem(world):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        "/login/", {"email": "x@example.com"}, HTTP_HOST=world.acme.host, HTTP_ACCEPT="application/json"
    )

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"].endswith("/csrf-failed")


def test_a_host_not_allowed_is_a_400_problem_on_api_paths_and_a_page_elsewhere(settings, world):
    from django.test import Client

    settings.ALLOWED_HOSTS = ["acme.localhost"]
    client = Client(raise_request_exception=False)

    api_answer = client.get("/api/v2/curves", HTTP_HOST="evil.example")
    page_answer = client.get("/", HTTP_HOST="evil.example")

    assert api_answer.status_code == 400
    assert api_answer["Content-Type"] == "application/problem+json"
    assert api_answer.json()["title"] == "Bad Request"
    assert page_answer.status_code == 400
    assert "<h1>This request could not be understood</h1>" in page_answer.content.decode()
