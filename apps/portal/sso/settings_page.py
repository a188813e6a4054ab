"""The portal's ``/settings/sso/``: the tenant's single sign-on (provider, client, role mapping, provisioning,
"SSO only", bearer JWTs on v1) and a "Check issuer" that reads the provider's discovery document and says
what it found or what is wrong. Admins only (``members:manage``: SSO decides who becomes a member)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from apps.accounts.roles import MEMBERS_MANAGE
from apps.accounts.sso.discovery import Discovery, SsoProviderError, issuer_discover
from apps.accounts.sso.selectors import sso_config_get
from apps.accounts.sso.services import sso_config_save
from apps.portal.access import form_add_issues, portal_view
from apps.portal.sso.forms import ISSUE_FIELDS, IssuerCheckForm, SsoConfigForm
from aurum.api.context import RequestContext
from aurum.errors import InvalidInputError


def _page(
    request: HttpRequest,
    ctx: RequestContext,
    *,
    form: SsoConfigForm | None = None,
    check: Discovery | None = None,
    check_error: str = "",
    checked_issuer: str = "",
    status: int = 200,
) -> HttpResponse:
    config = sso_config_get(tenant=ctx.tenant)
    context = {
        "config": config,
        "form": form or SsoConfigForm.for_config(config),
        "check": check,
        "check_error": check_error,
        "check_issuer_value": checked_issuer or (config.issuer if config else ""),
        "callback_url": request.build_absolute_uri("/sso/callback/"),
        "login_url": request.build_absolute_uri("/login/"),
    }
    response = render(request, "portal/settings/sso.html", context, status=status)
    response["Cache-Control"] = "private, no-store"
    return response


@require_safe
@portal_view(MEMBERS_MANAGE)
def sso_settings_view(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    return _page(request, ctx)


@require_POST
@portal_view(MEMBERS_MANAGE)
def sso_settings_save_view(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    form = SsoConfigForm(request.POST)
    if not form.is_valid():
        return _page(request, ctx, form=form, status=400)
    try:
        sso_config_save(tenant=ctx.tenant, values=form.values(), client_secret=form.secret_given())
    except InvalidInputError as error:
        form_add_issues(form, error, ISSUE_FIELDS)
        return _page(request, ctx, form=form, status=400)
    messages.success(request, "Saved: the next sign-in uses these settings.")
    return redirect("portal-sso-settings")


@require_POST
@portal_view(MEMBERS_MANAGE)
def sso_issuer_check_view(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    form = IssuerCheckForm(request.POST)
    if not form.is_valid():
        return _page(request, ctx, check_error="Enter the issuer URL to check.", status=400)
    issuer = form.cleaned_data["issuer"].strip()
    try:
        found = issuer_discover(issuer=issuer)
    except SsoProviderError as error:
        return _page(request, ctx, check_error=str(error), checked_issuer=issuer)
    return _page(request, ctx, check=found, checked_issuer=issuer)
