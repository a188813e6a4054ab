"""The portal's single sign-on flow on the tenant's host: ``/sso/login/`` sends the browser to the tenant's
provider (mozilla-django-oidc's request view: state, nonce, PKCE), ``/sso/callback/`` takes it back (the
library's callback view; the tenant backend checks the ID token and applies the tenant's rules), and signing
out can end the provider's session too. A tenant without enabled SSO answers 404 on both."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from apps.accounts.models import TenantSsoConfig
from apps.accounts.sso.backend import REFUSAL_ATTRIBUTE, tenant_oidc_settings
from apps.accounts.sso.discovery import SsoProviderError, discovery_for
from apps.accounts.sso.selectors import sso_config_for_sign_in

# What the sign-in page says for each refusal (fixed text: nothing from the provider is echoed).
SSO_ERRORS = {
    "not-a-member": "Your account at the identity provider has no access to this workspace. Ask an admin.",
    "no-role": "The identity provider gave none of the groups this workspace maps to a role. Ask an admin.",
    "no-email": "The identity provider did not give an email address.",
    "email-unverified": "The identity provider has not verified your email address.",
    "not-allowed": "This account cannot sign in with single sign-on here.",
    "token-invalid": "The identity provider's answer could not be verified. Try again, or ask an admin.",
    "provider-unreachable": "The identity provider could not be reached. Try again in a moment.",
    "provider-error": "The identity provider refused the sign-in. Try again, or ask an admin.",
    "failed": "Single sign-on did not complete. Try again.",
}


def _config_or_404(request: HttpRequest) -> TenantSsoConfig:
    config = sso_config_for_sign_in(tenant=request.tenant)  # type: ignore[attr-defined]
    if config is None:
        raise Http404("This workspace has no single sign-on.")
    return config


def _login_with_error(code: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse('portal-login')}?{urlencode({'sso_error': code})}")


class SsoLoginView(OIDCAuthenticationRequestView):
    def __init__(self, **kwargs: Any) -> None:
        View.__init__(self, **kwargs)  # the library's reads global settings; ours come per tenant
        self.overlay: dict[str, Any] = {}

    def get_settings(self, attr: str, *args: Any) -> Any:  # type: ignore[override]
        if attr in self.overlay:
            return self.overlay[attr]
        return super().get_settings(attr, *args)

    def get(self, request: HttpRequest) -> HttpResponse:
        config = _config_or_404(request)
        try:
            discovery = discovery_for(tenant_id=config.tenant_id, issuer=config.issuer)
        except SsoProviderError:
            return _login_with_error("provider-unreachable")
        self.overlay = tenant_oidc_settings(config, discovery)
        self.OIDC_OP_AUTH_ENDPOINT = discovery.authorization_endpoint
        self.OIDC_RP_CLIENT_ID = config.client_id
        response: HttpResponse = super().get(request)
        return response


class SsoCallbackView(OIDCAuthenticationCallbackView):
    def get(self, request: HttpRequest) -> HttpResponse:
        request.aurum_sso_config = _config_or_404(request)  # type: ignore[attr-defined]
        response: HttpResponse = super().get(request)
        return response

    @property
    def failure_url(self) -> str:
        code = getattr(self.request, REFUSAL_ATTRIBUTE, "failed")
        return f"{reverse('portal-login')}?{urlencode({'sso_error': code})}"

    @property
    def success_url(self) -> str:
        return str(self.request.session.get("oidc_login_next") or reverse("portal-home"))


def provider_logout_url(request: HttpRequest, *, id_token: str | None) -> str | None:
    """Where to send the browser to end the provider's session too (after Django's logout), or None."""
    config = sso_config_for_sign_in(tenant=request.tenant)  # type: ignore[attr-defined]
    if config is None or not config.provider_logout or not id_token:
        return None
    try:
        discovery = discovery_for(tenant_id=config.tenant_id, issuer=config.issuer)
    except SsoProviderError:
        return None
    if not discovery.end_session_endpoint:
        return None
    params = {
        "id_token_hint": id_token,
        "client_id": config.client_id,
        "post_logout_redirect_uri": request.build_absolute_uri(reverse("portal-login")),
    }
    return f"{discovery.end_session_endpoint}?{urlencode(params)}"
