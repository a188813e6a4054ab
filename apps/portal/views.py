"""Server-rendered pages for tenant users, on the tenant's own host."""

import math
from urllib.parse import urlencode

from django import forms
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from apps.accounts.selectors import membership_for
from apps.accounts.signin import signin_limits
from apps.accounts.sso.selectors import sso_config_for_sign_in
from apps.portal.sso.signin import SSO_ERRORS, provider_logout_url
from aurum.api.throttling import limits_refusal, limits_take


class LoginForm(forms.Form):
    # The autocomplete hints let password managers fill the sign-in (and browsers stop warning about it).
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "username"}))
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


def _login_page(request: HttpRequest, form: LoginForm, *, error: str = "", status: int = 200) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    sso = sso_config_for_sign_in(tenant=tenant)
    if not error and sso is not None:
        error = SSO_ERRORS.get(request.GET.get("sso_error", ""), "")
        status = 401 if error else status
    next_url = request.GET.get("next", "")
    context = {
        "form": form,
        "error": error,
        "tenant": tenant,
        "sso": sso,
        "sso_query": urlencode({"next": next_url}) if next_url else "",
    }
    return render(request, "portal/login.html", context, status=status)


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    form = LoginForm(request.POST or None)
    error = ""
    if request.method == "POST":
        sso = sso_config_for_sign_in(tenant=tenant)
        if sso is not None and sso.sso_only:
            # Members sign in through the tenant's provider only; platform staff use the Django admin.
            error = "This workspace signs in with single sign-on only. Use the button below."
            return _login_page(request, LoginForm(), error=error, status=403)
    if request.method == "POST" and form.is_valid():
        # Throttled before the password is checked: a locked-out guess learns nothing, right or wrong.
        email = form.cleaned_data["email"]
        limits = signin_limits(email=email, client_ip=request.META.get("REMOTE_ADDR", ""))
        wait = limits_refusal(limits)
        if wait is not None:
            seconds = math.ceil(wait)
            error = f"Too many failed sign-ins. Try again in {seconds} seconds."
            response = _login_page(request, form, error=error, status=429)
            response["Retry-After"] = str(seconds)
            return response
        user = authenticate(request, email=email, password=form.cleaned_data["password"])
        # A user of another tenant gets the same answer as a wrong password: nothing about who exists where.
        if user is not None and membership_for(user=user, tenant=tenant) is not None:  # type: ignore[arg-type]
            login(request, user)
            target = request.GET.get("next", "")
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                target = "/"
            return redirect(target)
        limits_take(limits)
        error = "Email or password is not right for this workspace."
    return _login_page(request, form, error=error, status=401 if error else 200)


@require_http_methods(["POST"])
def logout_view(request: HttpRequest) -> HttpResponse:
    # Read before the session goes: a single sign-on session may end at the provider too.
    at_provider = provider_logout_url(request, id_token=request.session.get("oidc_id_token"))
    logout(request)
    return redirect(at_provider or "portal-login")
