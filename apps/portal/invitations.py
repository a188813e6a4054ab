"""Accepting an invitation: ``/invitations/<signed token>/`` on the tenant's host, from the emailed link.

No sign-in needed: the signed link is the credential. A new user sets a password; a user who already has an
Aurum account (another workspace's member) confirms theirs. Then they are signed in here.
"""

import math

from django import forms
from django.contrib.auth import login, logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from apps.accounts.members import invitation_accept, invitation_closed_reason
from apps.accounts.selectors import invitation_for_link, user_has_account
from apps.accounts.signin import signin_limits
from aurum.api.throttling import limits_refusal, limits_take
from aurum.errors import ConflictError, InvalidInputError, NotFoundError


class AcceptForm(forms.Form):
    full_name = forms.CharField(max_length=150, required=False, label="Your name")
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password_again = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), label="Password again"
    )

    def __init__(self, *args: object, existing: bool, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if existing:  # an account already: its password, once, and no name to set
            del self.fields["full_name"], self.fields["password_again"]
            self.fields["password"].widget.attrs["autocomplete"] = "current-password"
            self.fields["password"].help_text = "The password of your existing Aurum account."
        else:
            self.fields["password"].help_text = "At least 10 characters, not a common password."

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        again = data.get("password_again")
        if "password_again" in self.fields and again is not None and again != data.get("password"):
            self.add_error("password_again", "The two passwords differ; type the same one twice.")
        return data


@require_http_methods(["GET", "POST"])
def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    try:
        invitation = invitation_for_link(tenant=tenant, token=token)
    except NotFoundError as error:
        raise Http404(error.detail) from error
    context: dict[str, object] = {"invitation": invitation, "tenant": tenant}
    if not invitation.is_open():
        context["closed"] = invitation_closed_reason(invitation)
        return render(request, "portal/settings/accept.html", context, status=410)
    existing = user_has_account(email=invitation.email)
    form = AcceptForm(request.POST or None, existing=existing)
    context.update(form=form, existing=existing)
    if request.method == "POST" and form.is_valid():
        # Confirming an existing account's password is a sign-in: the same failure throttle applies.
        limits = signin_limits(email=invitation.email, client_ip=request.META.get("REMOTE_ADDR", ""))
        wait = limits_refusal(limits) if existing else None
        if wait is not None:
            form.add_error("password", f"Too many wrong passwords. Try again in {math.ceil(wait)} seconds.")
            return render(request, "portal/settings/accept.html", context, status=429)
        try:
            membership = invitation_accept(
                invitation=invitation,
                password=form.cleaned_data["password"],
                full_name=form.cleaned_data.get("full_name", ""),
            )
        except InvalidInputError as error:
            if existing:
                limits_take(limits)
            for issue in error.issues:
                form.add_error("password" if issue.field == "password" else None, issue.message)
        except ConflictError as error:
            context["closed"] = error.detail
            return render(request, "portal/settings/accept.html", context, status=410)
        else:
            logout(request)
            # Several backends are configured (passwords, the tenants' OIDC): this sign-in is a password's.
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("portal-home")
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/settings/accept.html", context, status=status)
