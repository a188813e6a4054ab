"""Server-rendered pages for tenant users, on the tenant's own host."""

import math

from django import forms
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from apps.accounts.selectors import membership_for
from apps.accounts.signin import signin_limits
from aurum.api.throttling import limits_refusal, limits_take


class LoginForm(forms.Form):
    email = forms.EmailField()
    password = forms.CharField(widget=forms.PasswordInput)


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    form = LoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        # Throttled before the password is checked: a locked-out guess learns nothing, right or wrong.
        email = form.cleaned_data["email"]
        limits = signin_limits(email=email, client_ip=request.META.get("REMOTE_ADDR", ""))
        wait = limits_refusal(limits)
        if wait is not None:
            seconds = math.ceil(wait)
            error = f"Too many failed sign-ins. Try again in {seconds} seconds."
            response = render(
                request, "portal/login.html", {"form": form, "error": error, "tenant": tenant}, status=429
            )
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
    status = 401 if error else 200
    return render(
        request, "portal/login.html", {"form": form, "error": error, "tenant": tenant}, status=status
    )


@require_http_methods(["POST"])
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("portal-login")
