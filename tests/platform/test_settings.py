"""Safe defaults: every entry point starts on the production settings, which refuse to run without their
secrets; TLS settings come from the environment; the system checks (deploy ones included) find nothing.

Each case runs in a fresh interpreter, as a deployment would start, without the test run's settings.
"""

import os
import runpy
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEPLOYMENT_ENV = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "aurum.example,.aurum.example",
    "AURUM_PUBLIC_HOSTS": "aurum.example",
    "AURUM_BASE_DOMAIN": "aurum.example",
}


def _bare_env(**extra: str) -> dict[str, str]:
    """This process's environment without any Django settings choice or secret, plus ``extra``."""
    dropped = ("DJANGO_SETTINGS_MODULE", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "AURUM_PUBLIC_HOSTS")
    return {**{k: v for k, v in os.environ.items() if k not in dropped}, **extra}


def _run_all(
    runs: dict[str, tuple[list[str], dict[str, str]]],
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run (command, environment) pairs side by side (each starts Django: seconds apiece); their results."""
    started = {
        name: subprocess.Popen(
            command, cwd=REPO, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for name, (command, env) in runs.items()
    }
    done = {}
    for name, process in started.items():
        out, err = process.communicate(timeout=120)
        done[name] = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    return done


ENTRY_POINTS = {
    "wsgi": [str(BIN / "python"), "-c", "import aurum.wsgi"],
    "asgi": [str(BIN / "python"), "-c", "import aurum.asgi"],
    "celery": [str(BIN / "python"), "-c", "from aurum.celery import app; app.conf.broker_url"],
    "gunicorn": [
        str(BIN / "gunicorn"),
        "-c",
        "deploy/gunicorn.conf.py",
        "--check-config",
        "aurum.wsgi:application",
    ],
}


def test_every_entry_point_refuses_to_start_without_a_secret_key_or_with_the_development_one():
    from aurum.settings.base import INSECURE_DEV_SECRET_KEY

    dev_key = _bare_env(**{**DEPLOYMENT_ENV, "DJANGO_SECRET_KEY": INSECURE_DEV_SECRET_KEY})
    runs = {
        name: (command, dev_key if name == "wsgi" else _bare_env()) for name, command in ENTRY_POINTS.items()
    }

    results = _run_all(runs)

    for name, result in results.items():
        assert result.returncode != 0, name
        assert "ImproperlyConfigured: aurum.settings.production needs DJANGO_SECRET_KEY" in result.stderr, (
            name
        )


# One interpreter for the three Python entry points (the first import picks the settings for all three; each
# names the same default), then the system checks, deploy ones included, on what they loaded.
DEPLOYED_PROBE = """
import aurum.wsgi, aurum.asgi
from aurum.celery import app
from django.conf import settings
from django.core.management import call_command

print(settings.SETTINGS_MODULE, settings.DEBUG, app.conf.broker_url == settings.REDIS_URL)
call_command("check", deploy=True, fail_level="WARNING")
"""


def test_entry_points_start_on_production_settings_and_every_check_passes():
    check = [str(BIN / "python"), "manage.py", "check", "--fail-level", "WARNING"]
    results = _run_all(
        {
            "deployed": ([str(BIN / "python"), "-c", DEPLOYED_PROBE], _bare_env(**DEPLOYMENT_ENV)),
            # manage.py's own default settings are a developer's (aurum.settings.local).
            "local": (check, _bare_env()),
        }
    )
    deployed, local = results["deployed"], results["local"]

    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    # HSTS preload is the domain owner's decision (AURUM_HSTS_PRELOAD), so its reminder is the one silenced.
    assert deployed.stdout.splitlines() == [
        "aurum.settings.production False True",
        "System check identified no issues (1 silenced).",
    ]
    assert local.returncode == 0, local.stdout + local.stderr
    assert local.stdout.strip() == "System check identified no issues (0 silenced)."


def _production_settings(monkeypatch, **env: str) -> dict[str, Any]:
    """The production settings module evaluated afresh with DEPLOYMENT_ENV and ``env`` in the environment."""
    for name, value in {**DEPLOYMENT_ENV, **env}.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(REPO / "aurum" / "settings" / "production.py"))


@pytest.mark.parametrize(("value", "expected"), [(None, 11), ("5", 5)])
def test_static_files_are_compressed_at_brotli_quality_11_unless_set(monkeypatch, value, expected):
    monkeypatch.delenv("AURUM_STATIC_BROTLI_QUALITY", raising=False)
    if value is not None:
        monkeypatch.setenv("AURUM_STATIC_BROTLI_QUALITY", value)
    base = runpy.run_path(str(REPO / "aurum" / "settings" / "base.py"))
    assert base["AURUM_STATIC_BROTLI_QUALITY"] == expected
    production = _production_settings(monkeypatch)
    assert production["STORAGES"]["staticfiles"]["BACKEND"] == "aurum.staticfiles.StaticFilesStorage"


def test_production_settings_refuse_a_brotli_quality_out_of_range(monkeypatch):
    monkeypatch.delitem(sys.modules, "aurum.settings.base")  # read afresh, with the variable set
    with pytest.raises(ImproperlyConfigured, match="AURUM_STATIC_BROTLI_QUALITY must be 0-11"):
        _production_settings(monkeypatch, AURUM_STATIC_BROTLI_QUALITY="12")


def test_production_settings_refuse_a_missing_secret_key(monkeypatch):
    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "aurum.example")

    with pytest.raises(ImproperlyConfigured, match="needs DJANGO_SECRET_KEY"):
        runpy.run_path(str(REPO / "aurum" / "settings" / "production.py"))


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, (31_536_000, True, False, True)),
        (
            {"AURUM_HSTS_SECONDS": "600", "AURUM_SSL_REDIRECT": "false", "AURUM_HSTS_PRELOAD": "true"},
            (600, False, True, True),
        ),
        ({"AURUM_HSTS_SECONDS": "0", "AURUM_SECURE_COOKIES": "false"}, (0, True, False, False)),
    ],
)
def test_hsts_tls_redirect_and_secure_cookies_come_from_the_environment(monkeypatch, env, expected):
    production = _production_settings(monkeypatch, **env)

    assert (
        production["SECURE_HSTS_SECONDS"],
        production["SECURE_SSL_REDIRECT"],
        production["SECURE_HSTS_PRELOAD"],
        production["SESSION_COOKIE_SECURE"],
    ) == expected
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert production["DEBUG"] is False


SECURITY_SETTINGS = (
    "SECURE_SSL_REDIRECT",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
)


def test_production_redirects_to_https_sends_hsts_and_lets_health_probes_through(monkeypatch, settings, api):
    production = _production_settings(monkeypatch)
    for name in SECURITY_SETTINGS:
        setattr(settings, name, production[name])

    plain = api.get("/api/v2/me")
    probe = api.get("/health/live")
    # The original Aurum's probes (aurum/urls_shared.py) come over plain HTTP too.
    original_probes = {path: api.get(path).status_code for path in ("/health", "/healthz", "/live", "/livez")}
    behind_tls = api.get("/health/live", HTTP_X_FORWARDED_PROTO="https")

    assert (plain.status_code, plain["Location"]) == (301, "https://testserver/api/v2/me")
    assert probe.status_code == 200
    assert original_probes == {"/health": 200, "/healthz": 200, "/live": 200, "/livez": 200}
    assert "Strict-Transport-Security" not in probe  # only ever sent over TLS
    assert behind_tls["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


SESSION_SETTINGS = (
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SAMESITE",
    "SESSION_COOKIE_AGE",
    "SESSION_EXPIRE_AT_BROWSER_CLOSE",
)


def test_production_sessions_are_secure_lax_and_last_a_working_day(monkeypatch):
    production = _production_settings(monkeypatch)
    # The session length is read by the base settings, once per process: a fresh one reads the environment.
    probe = "import aurum.wsgi; from django.conf import settings; print(settings.SESSION_COOKIE_AGE)"
    eight = _run_all(
        {"8h": ([str(BIN / "python"), "-c", probe], _bare_env(**DEPLOYMENT_ENV, AURUM_SESSION_HOURS="8"))}
    )["8h"]

    assert tuple(production[name] for name in SESSION_SETTINGS) == (
        True,
        True,
        True,
        "Lax",
        "Lax",
        36_000,
        True,
    )
    assert (eight.returncode, eight.stdout.strip()) == (0, "28800"), eight.stderr


def test_signing_in_starts_a_new_session_whose_cookie_ends_with_the_browser(
    monkeypatch, settings, world, api
):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    production = _production_settings(monkeypatch)
    for name in SESSION_SETTINGS:
        setattr(settings, name, production[name])
    member = world.acme.members["analyst"]
    before = api.session  # a session from before signing in (an attacker may have planted its key)
    before["planted"] = True
    before.save()

    response = api.post(
        "/login/", {"email": member.email, "password": member.password}, HTTP_HOST=world.acme.host
    )

    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie.value != before.session_key
    assert not Session.objects.filter(session_key=before.session_key).exists()
    assert (cookie["secure"], cookie["httponly"], cookie["samesite"]) == (True, True, "Lax")
    assert cookie["max-age"] == "" and cookie["expires"] == ""  # a browser-session cookie
    stored = Session.objects.get(session_key=cookie.value)
    assert abs(stored.expire_date - (timezone.now() + timedelta(hours=10))) < timedelta(minutes=1)
