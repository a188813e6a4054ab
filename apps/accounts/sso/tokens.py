"""Checking a JWT of a tenant's issuer: an ID token at the end of the sign-in flow, or a bearer JWT on the v1
API. Signature against the issuer's published keys, an allow-list of asymmetric algorithms (never ``none``
nor HMAC, whose "key" would be public), ``iss``, ``aud``, ``exp`` and ``nbf``, and the nonce when given.
"""

from __future__ import annotations

from typing import Any

import jwt
from django.conf import settings

from apps.accounts.sso.discovery import SsoProviderError, discovery_for, signing_key_for

ALLOWED_ALGORITHMS = ("RS256", "ES256")
REQUIRED_CLAIMS = ["iss", "aud", "exp"]


class JwtInvalidError(Exception):
    """The token is not acceptable; ``reason`` says why in words a client can act on (never which tenants
    exist or how they are configured)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def jwt_verify(
    *, tenant_id: int, issuer: str, audience: str, token: str, nonce: str | None = None
) -> dict[str, Any]:
    """The claims of ``token`` once it is proven to come from ``issuer`` for ``audience``, unexpired."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as error:
        raise JwtInvalidError("malformed token") from error
    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise JwtInvalidError(f"algorithm {alg!r} is not accepted (use {' or '.join(ALLOWED_ALGORITHMS)})")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise JwtInvalidError("malformed key id")
    try:
        discovery = discovery_for(tenant_id=tenant_id, issuer=issuer)
        jwk = signing_key_for(tenant_id=tenant_id, jwks_uri=discovery.jwks_uri, kid=kid, alg=alg)
    except SsoProviderError as error:
        raise JwtInvalidError("the issuer's signing keys could not be fetched") from error
    if jwk is None:
        raise JwtInvalidError("unknown signing key (not in the issuer's JWKS)")
    try:
        key = jwt.PyJWK(jwk, algorithm=alg)
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key.key,
            algorithms=[alg],
            audience=audience,
            # The same issuer with or without its trailing slash (Auth0 and Okta differ).
            issuer=[issuer.rstrip("/"), issuer.rstrip("/") + "/"],
            leeway=settings.AURUM_SSO_CLOCK_SKEW_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError as error:
        raise JwtInvalidError("token expired") from error
    except jwt.ImmatureSignatureError as error:
        raise JwtInvalidError("token not valid yet (nbf or iat in the future)") from error
    except jwt.InvalidAudienceError as error:
        raise JwtInvalidError("wrong audience") from error
    except jwt.InvalidIssuerError as error:
        raise JwtInvalidError("wrong issuer") from error
    except jwt.MissingRequiredClaimError as error:
        raise JwtInvalidError(f"the claim '{error.claim}' is missing") from error
    except jwt.InvalidSignatureError as error:
        raise JwtInvalidError("bad signature") from error
    except (jwt.InvalidTokenError, jwt.PyJWKError) as error:
        raise JwtInvalidError("invalid token") from error
    if nonce is not None and claims.get("nonce") != nonce:
        raise JwtInvalidError("nonce does not match the sign-in request")
    return claims
