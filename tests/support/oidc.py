"""The tests' real OpenID Connect provider (``tests/support/oidc_provider``: django-oauth-toolkit, OIDC on) in
a subprocess on a loopback port, and a person's side of the sign-in: ``requests`` for the provider's pages
(its sign-in and consent forms, posted as a browser would), Django's test client for Aurum's.

One process is several issuers: DOT names its issuer after the host it is reached on, so
``http://127.0.0.1:<port>/o`` and ``http://localhost:<port>/o`` are two providers with one user base; and
``http://127.0.0.1:<port>/rotating`` publishes the JWKS file the tests write (``Provider.keys_publish``)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.test import Client

from aurum.devstack.services import free_port
from tests.support.paths import REPO

SETTINGS = "tests.support.oidc_provider.settings"


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_jwk(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, *, kid: str, alg: str) -> dict[str, Any]:
    algorithm = jwt.get_algorithm_by_name(alg)
    jwk = json.loads(algorithm.to_jwk(key.public_key()))  # type: ignore[arg-type]
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


def sign(
    claims: dict[str, Any], key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | str, *, kid: str, alg: str
) -> str:
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})  # type: ignore[arg-type]


@dataclass
class Provider:
    port: int
    state_dir: Path
    process: subprocess.Popen[bytes] | None = None
    log: Any = None
    users: dict[str, str] = field(default_factory=dict)

    def issuer(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}/o"

    @property
    def rotating_issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}/rotating"

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "OIDC_PROVIDER_DIR": str(self.state_dir)}
        env.pop("PYTEST_XDIST_WORKER", None)
        subprocess.run(
            [sys.executable, "-m", "django", "migrate", "--noinput", "-v", "0"],
            cwd=REPO,
            env=env,
            check=True,
        )
        self.log = open(self.state_dir / "provider.log", "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
            cwd=REPO,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.issuer() + "/.well-known/openid-configuration", timeout=1).ok:
                    return
            except requests.ConnectionError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the OIDC provider did not start; see {self.state_dir / 'provider.log'}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self.log is not None:
            self.log.close()

    def user(self, email: str, password: str, groups: list[str]) -> None:
        """Create or change a user of the provider (signs in with ``email`` as user name)."""
        body = {"username": email, "email": email, "password": password, "groups": groups}
        requests.post(self.url("/control/users"), json=body, timeout=5).raise_for_status()
        self.users[email] = password

    def client_app(self, *, client_id: str, secret: str, redirect_uri: str, logout_uri: str = "") -> None:
        body = {
            "client_id": client_id,
            "client_secret": secret,
            "redirect_uris": [redirect_uri],
            "post_logout_redirect_uris": [logout_uri] if logout_uri else [],
        }
        requests.post(self.url("/control/apps"), json=body, timeout=5).raise_for_status()

    def keys_publish(self, jwks: list[dict[str, Any]]) -> None:
        """What ``/rotating/jwks`` serves from now on (a key rotation at the provider)."""
        (self.state_dir / "rotating-jwks.json").write_text(json.dumps({"keys": jwks}))

    def jwks_requests(self) -> int:
        return int(requests.get(self.url("/control/jwks-requests"), timeout=5).json()["count"])


def provider_start(state_dir: Path) -> Provider:
    (state_dir / "signing-key.pem").write_text(pem(rsa_key()))
    provider = Provider(port=free_port(), state_dir=state_dir)
    provider.keys_publish([])
    provider.start()
    return provider


_INPUT = re.compile(r"<input[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r'(\w+)="([^"]*)"')


def form_fields(html: str) -> dict[str, str]:
    """The named inputs of the page's form with their values (hidden fields, csrf token, consent)."""
    fields = {}
    for tag in _INPUT.findall(html):
        attrs = dict(_ATTR.findall(tag))
        if "name" in attrs:
            fields[attrs["name"]] = attrs.get("value", "").replace("&amp;", "&")
    return fields


@dataclass
class SignIn:
    """How a sign-in through the provider ended on Aurum's side."""

    response: Any  # Aurum's answer to the callback
    consent_shown: bool


def sso_sign_in(aurum: Client, person: requests.Session, *, email: str, password: str) -> SignIn:
    """Click "Sign in with SSO" on Aurum, sign in and consent at the provider, follow it back to Aurum."""
    start = aurum.get("/sso/login/")
    assert start.status_code == 302, start.status_code
    url = start["Location"]
    consent_shown = False
    for _ in range(10):
        page = person.get(url, allow_redirects=False, timeout=10)
        if page.status_code == 302:
            url = urljoin(url, page.headers["Location"])
            if urlsplit(url).hostname not in ("127.0.0.1", "localhost"):
                break  # back to Aurum (acme.localhost...)
            continue
        assert page.status_code == 200, (page.status_code, page.text[:500])
        fields = form_fields(page.text)
        if "password" in fields:  # the provider's sign-in form
            fields.update(username=email, password=password)
        else:  # the consent form
            consent_shown = True
            fields["allow"] = "Authorize"
        posted = person.post(url, data=fields, headers={"Referer": url}, allow_redirects=False, timeout=10)
        assert posted.status_code == 302, (posted.status_code, posted.text[:500])
        url = urljoin(url, posted.headers["Location"])
        if urlsplit(url).hostname not in ("127.0.0.1", "localhost"):
            break
    back = urlsplit(url)
    assert back.path == "/sso/callback/", url
    query = {key: values[0] for key, values in parse_qs(back.query).items()}
    return SignIn(response=aurum.get(back.path, query), consent_shown=consent_shown)


def sso_configure(tenant_schema: str, **values: Any) -> Any:
    """Save a tenant's SSO configuration through the service the portal uses (defaults: enabled, groups
    mapped to roles, no provisioning)."""
    from apps.accounts.sso.services import sso_config_save
    from tenants.models import Tenant

    secret = values.pop("client_secret", None)  # None: keep the stored one
    defaults: dict[str, Any] = {
        "is_enabled": True,
        "scopes": "openid email profile",
        "role_claim": "groups",
        "role_mapping": {"aurum-admins": "admin", "aurum-traders": "trader", "aurum-analysts": "analyst"},
    }
    return sso_config_save(
        tenant=Tenant.objects.get(schema_name=tenant_schema),
        values={**defaults, **values},
        client_secret=secret,
    )


def sso_audit_entries(tenant_schema: str, action: str) -> list[Any]:
    from django_tenants.utils import schema_context

    from apps.audit.models import AuditEntry

    with schema_context(tenant_schema):
        return list(AuditEntry.objects.filter(action=action).order_by("sequence"))
