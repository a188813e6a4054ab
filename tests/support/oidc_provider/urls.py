"""The provider's routes: django-oauth-toolkit under ``/o/`` (its issuer is ``http://<host>:<port>/o``, so the
same process is two issuers: one per host name, 127.0.0.1 and localhost), a sign-in page, a second issuer
``/rotating`` whose JWKS is a file the tests rewrite (key rotation), and control routes the tests use to add
users and client applications."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from tests.support.oidc_provider import control

urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("rotating/.well-known/openid-configuration", control.rotating_discovery),
    path("rotating/jwks", control.rotating_jwks),
    path("control/users", control.user_upsert),
    path("control/apps", control.app_upsert),
    path("control/jwks-requests", control.jwks_requests),
]
