"""mozilla-django-oidc, per tenant. Its backend and views read global settings (``OIDC_RP_CLIENT_ID``...);
here each request's tenant configuration (``TenantSsoConfig`` + the provider's discovery document) stands in
for them through ``tenant_oidc_settings``, and everything else (state, nonce, PKCE, the code exchange, the
session) is the library's own code.

The ID token is checked by ``apps.accounts.sso.tokens.jwt_verify`` (issuer = the tenant's, audience = its
client id, asymmetric algorithms only), not by the library's check, which skips the audience.
"""

from __future__ import annotations

from typing import Any

import requests
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from apps.accounts.models import TenantSsoConfig, User
from apps.accounts.sso.discovery import Discovery, SsoProviderError, discovery_for
from apps.accounts.sso.services import SsoRefusedError, sso_sign_in
from apps.accounts.sso.tokens import JwtInvalidError, jwt_verify

CALLBACK_URL_NAME = "portal-sso-callback"
# Where the callback view finds why a sign-in was refused (a fixed code, shown as a fixed message).
REFUSAL_ATTRIBUTE = "aurum_sso_refusal"


def tenant_oidc_settings(config: TenantSsoConfig, discovery: Discovery) -> dict[str, Any]:
    """The library's settings for this tenant."""
    return {
        "OIDC_RP_CLIENT_ID": config.client_id,
        "OIDC_RP_CLIENT_SECRET": config.client_secret,
        "OIDC_RP_SCOPES": config.scopes,
        "OIDC_OP_AUTHORIZATION_ENDPOINT": discovery.authorization_endpoint,
        "OIDC_OP_TOKEN_ENDPOINT": discovery.token_endpoint,
        "OIDC_OP_USER_ENDPOINT": discovery.userinfo_endpoint,
        "OIDC_OP_JWKS_ENDPOINT": discovery.jwks_uri,
        "OIDC_AUTHENTICATION_CALLBACK_URL": CALLBACK_URL_NAME,
        "OIDC_USE_NONCE": True,
        "OIDC_USE_PKCE": True,
        "OIDC_STORE_ID_TOKEN": True,  # the id_token_hint of the provider's sign-out
        "OIDC_CREATE_USER": False,  # sso_sign_in provisions, by the tenant's rules
        "OIDC_TIMEOUT": settings.AURUM_SSO_HTTP_TIMEOUT_SECONDS,
        "OIDC_VERIFY_SSL": True,
    }


class TenantOidcBackend(OIDCAuthenticationBackend):
    """Authenticates the OIDC callback of the request's tenant; answers None to anything else."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The library's __init__ reads global settings this deployment does not have; they come per request.
        ModelBackend.__init__(self, *args, **kwargs)
        self.UserModel = User
        self.overlay: dict[str, Any] = {}
        self.config: TenantSsoConfig | None = None

    def get_settings(self, attr: str, *args: Any) -> Any:  # type: ignore[override]
        if attr in self.overlay:
            return self.overlay[attr]
        return super().get_settings(attr, *args)

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:  # type: ignore[override]
        config = getattr(request, "aurum_sso_config", None)
        if request is None or "nonce" not in kwargs or not isinstance(config, TenantSsoConfig):
            return None  # a password sign-in, or not our tenant's callback
        try:
            discovery = discovery_for(tenant_id=config.tenant_id, issuer=config.issuer)
        except SsoProviderError:
            setattr(request, REFUSAL_ATTRIBUTE, "provider-unreachable")
            return None
        self.config = config
        self.overlay = tenant_oidc_settings(config, discovery)
        self.OIDC_OP_TOKEN_ENDPOINT = discovery.token_endpoint
        self.OIDC_OP_USER_ENDPOINT = discovery.userinfo_endpoint
        self.OIDC_OP_JWKS_ENDPOINT = discovery.jwks_uri
        self.OIDC_RP_CLIENT_ID = config.client_id
        self.OIDC_RP_CLIENT_SECRET = config.client_secret
        self.OIDC_RP_SIGN_ALGO = "RS256"
        self.OIDC_RP_IDP_SIGN_KEY = None
        try:
            user: User | None = super().authenticate(request, **kwargs)
        except SuspiciousOperation:
            if not hasattr(request, REFUSAL_ATTRIBUTE):
                setattr(request, REFUSAL_ATTRIBUTE, "token-invalid")
            return None
        except requests.RequestException:  # the code exchange or userinfo failed at the provider
            setattr(request, REFUSAL_ATTRIBUTE, "provider-error")
            return None
        return user

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        assert self.config is not None
        try:
            return jwt_verify(
                tenant_id=self.config.tenant_id,
                issuer=self.config.issuer,
                audience=self.config.client_id,
                token=token,
                nonce=kwargs.get("nonce"),
            )
        except JwtInvalidError as error:
            setattr(self.request, REFUSAL_ATTRIBUTE, "token-invalid")
            raise SuspiciousOperation(f"ID token refused: {error.reason}") from error

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The ID token's claims, completed by the userinfo endpoint's (the ID token's ``iss`` and ``sub``
        win: userinfo names the same subject or is ignored)."""
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT:
            userinfo = super().get_userinfo(access_token, id_token, payload)
            if isinstance(userinfo, dict) and userinfo.get("sub") == payload.get("sub"):
                claims = {**userinfo, **payload}
        return claims

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> User | None:
        assert self.config is not None
        claims = self.get_userinfo(access_token, id_token, payload)
        try:
            membership = sso_sign_in(config=self.config, claims=claims)
        except SsoRefusedError as refused:
            setattr(self.request, REFUSAL_ATTRIBUTE, refused.code)
            return None
        return membership.user
