"""Server-rendered pages for tenant users, on the tenant's own host."""

import math
from typing import Any

from django import forms
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from apps.accounts.selectors import api_token_list, membership_for, token_reach
from apps.portal.signin import signin_limits
from aurum.api.context import request_context_or_none
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
            return redirect("portal-home")
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


@login_required
def home_view(request: HttpRequest) -> HttpResponse:
    credential = request_context_or_none(request)
    if credential is None:  # signed in, but not a member of this tenant
        logout(request)
        return redirect("portal-login")
    membership = credential.membership
    manages_tokens = token_reach(credential.permissions) is not None
    context: dict[str, Any] = {
        "tenant": membership.tenant,
        "membership": membership,
        "permissions": sorted(credential.permissions),
        "manages_tokens": manages_tokens,
        "tokens": api_token_list(credential=credential)[:20] if manages_tokens else [],
    }
    return render(request, "portal/home.html", context)
