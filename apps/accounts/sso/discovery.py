"""What a tenant's provider publishes: its discovery document and its signing keys (JWKS), fetched over HTTP
and cached in the cache (Redis) per tenant *and* issuer, so two tenants never share an entry and a changed
issuer never reads the old one's.

A key id the cached JWKS lacks means the provider rotated its keys: the JWKS is fetched again, at most once
per ``AURUM_SSO_JWKS_REFETCH_SECONDS`` per tenant, so a stream of tokens with made-up key ids cannot turn
into a stream of requests to the provider.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.cache import cache

DISCOVERY_PATH = "/.well-known/openid-configuration"
MAX_DOCUMENT_BYTES = 256 * 1024


class SsoProviderError(Exception):
    """The provider could not be reached or answered something unusable; ``str()`` says what, for an admin."""


@dataclass(frozen=True)
class Discovery:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str = ""
    end_session_endpoint: str = ""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _get_json(url: str) -> dict[str, Any]:
    try:
        response = requests.get(
            url,
            timeout=settings.AURUM_SSO_HTTP_TIMEOUT_SECONDS,
            headers={"Accept": "application/json"},
            allow_redirects=False,
        )
    except requests.RequestException as error:
        raise SsoProviderError(f"{url} could not be reached ({type(error).__name__}).") from error
    if response.status_code != 200:
        raise SsoProviderError(f"{url} answered HTTP {response.status_code}, not 200.")
    if len(response.content) > MAX_DOCUMENT_BYTES:
        raise SsoProviderError(f"{url} answered more than {MAX_DOCUMENT_BYTES // 1024} KiB.")
    try:
        body = response.json()
    except ValueError as error:
        raise SsoProviderError(f"{url} did not answer JSON.") from error
    if not isinstance(body, dict):
        raise SsoProviderError(f"{url} did not answer a JSON object.")
    return body


def issuer_problem(issuer: str) -> str | None:
    """Why ``issuer`` cannot be an issuer URL, or None."""
    parts = urlsplit(issuer)
    schemes = ("https", "http") if settings.AURUM_SSO_ALLOW_HTTP_ISSUERS else ("https",)
    if parts.scheme not in schemes or not parts.hostname or parts.query or parts.fragment:
        return "The issuer must be an https URL without query or fragment."
    return None


def issuer_discover(*, issuer: str) -> Discovery:
    """Fetch and check ``{issuer}/.well-known/openid-configuration`` (no cache: the settings page's check)."""
    if problem := issuer_problem(issuer):
        raise SsoProviderError(problem)
    issuer = issuer.rstrip("/")
    document = _get_json(issuer + DISCOVERY_PATH)
    published = str(document.get("issuer", "")).rstrip("/")
    if published != issuer:
        # OpenID Connect Discovery 1.0, section 4.3: the document must name the issuer it was fetched for.
        raise SsoProviderError(f"The discovery document names the issuer '{published}', not '{issuer}'.")
    missing = [
        name for name in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not document.get(name)
    ]
    if missing:
        raise SsoProviderError(f"The discovery document lacks {', '.join(missing)}.")
    return Discovery(
        issuer=published,
        authorization_endpoint=str(document["authorization_endpoint"]),
        token_endpoint=str(document["token_endpoint"]),
        jwks_uri=str(document["jwks_uri"]),
        userinfo_endpoint=str(document.get("userinfo_endpoint") or ""),
        end_session_endpoint=str(document.get("end_session_endpoint") or ""),
    )


def discovery_for(*, tenant_id: int, issuer: str) -> Discovery:
    """The tenant's provider's discovery document, cached per tenant and issuer."""
    key = f"sso:discovery:{tenant_id}:{_digest(issuer)}"
    cached = cache.get(key)
    if isinstance(cached, dict):
        return Discovery(**cached)
    found = issuer_discover(issuer=issuer)
    cache.set(key, asdict(found), timeout=settings.AURUM_SSO_DISCOVERY_CACHE_SECONDS)
    return found


def discovery_forget(*, tenant_id: int, issuer: str) -> None:
    """Drop the tenant's cached discovery document (its configuration changed)."""
    cache.delete(f"sso:discovery:{tenant_id}:{_digest(issuer)}")


def _jwks_fetch(jwks_uri: str) -> list[dict[str, Any]]:
    keys = _get_json(jwks_uri).get("keys")
    if not isinstance(keys, list):
        raise SsoProviderError(f"{jwks_uri} has no 'keys' list.")
    return [key for key in keys if isinstance(key, dict)]


def _matching(keys: list[dict[str, Any]], kid: str | None, alg: str) -> dict[str, Any] | None:
    usable = [k for k in keys if k.get("use", "sig") == "sig" and k.get("alg", alg) == alg]
    if kid is None:
        return usable[0] if len(usable) == 1 else None
    return next((k for k in usable if k.get("kid") == kid), None)


def signing_key_for(*, tenant_id: int, jwks_uri: str, kid: str | None, alg: str) -> dict[str, Any] | None:
    """The JWK that signed a token (by ``kid`` and ``alg``), or None when the provider does not publish it.

    Cached per tenant and JWKS URL; an unknown ``kid`` refetches (rate-limited, see the module docstring).
    """
    key = f"sso:jwks:{tenant_id}:{_digest(jwks_uri)}"
    keys = cache.get(key)
    if not isinstance(keys, list):
        keys = _jwks_fetch(jwks_uri)
        cache.set(key, keys, timeout=settings.AURUM_SSO_DISCOVERY_CACHE_SECONDS)
        return _matching(keys, kid, alg)
    found = _matching(keys, kid, alg)
    if found is not None:
        return found
    cooldown = settings.AURUM_SSO_JWKS_REFETCH_SECONDS
    if cooldown > 0 and not cache.add(f"{key}:refetched", 1, timeout=cooldown):
        return None
    keys = _jwks_fetch(jwks_uri)
    cache.set(key, keys, timeout=settings.AURUM_SSO_DISCOVERY_CACHE_SECONDS)
    return _matching(keys, kid, alg)
