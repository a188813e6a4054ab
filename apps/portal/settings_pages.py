"""The portal's ``/settings/``: API tokens (own, or every member's with ``tokens:manage``), members and
invitations (``members:manage``), links to the webhooks and audit pages, and room for single sign-on.

Only members who manage tokens open it (``tokens:own`` or ``tokens:manage``; never viewers, decision 0012).
Every write is the service the API uses, acting as the session's credential: a session creates root tokens
(no parent), bounded by the owner's role.
"""

from datetime import UTC, datetime, time, timedelta
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from apps.accounts.members import (
    invitation_create_as,
    invitation_revoke_as,
    membership_remove_as,
    membership_role_change_as,
)
from apps.accounts.models import ApiToken
from apps.accounts.roles import MEMBERS_MANAGE, Role
from apps.accounts.selectors import (
    api_token_list,
    invitation_list_open,
    membership_get,
    membership_list,
    token_reach,
)
from apps.accounts.services import api_token_create_as, api_token_revoke_as
from apps.accounts.sso.selectors import sso_config_for_sign_in
from apps.portal.access import form_add_issues, portal_view
from aurum.api.context import RequestContext
from aurum.errors import ConflictError, ForbiddenError, InvalidInputError

TOKENS_SHOWN = 100


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “Excel add-in” or “risk batch”.")
    scopes = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="What the token may do, within its owner's role. None ticked: all the role grants.",
    )
    expires_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The token stops working at the end of this day (UTC). Empty: it never expires.",
    )
    member = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="For member")

    def __init__(self, *args: Any, ctx: RequestContext, members: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["scopes"]).choices = [(p, p) for p in sorted(ctx.permissions)]
        if token_reach(ctx.permissions) == "tenant":
            cast(forms.ChoiceField, self.fields["member"]).choices = [
                (m.pk, f"{m.user.email} ({m.role})") for m in members
            ]
            self.fields["member"].initial = ctx.membership.pk
            self.fields[
                "member"
            ].help_text = "Issue the token to another member; it is bounded by their role."
        else:
            del self.fields["member"]

    def expires_at(self) -> datetime | None:
        day = self.cleaned_data.get("expires_on")
        return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC) if day else None


class InviteForm(forms.Form):
    email = forms.EmailField(help_text="They get an email with a link to join; it works once, for 7 days.")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


def _require_settings(ctx: RequestContext) -> None:
    if token_reach(ctx.permissions) is None:
        raise ForbiddenError("Settings are for members who manage API tokens; viewers ask an admin.")


def _settings_page(
    request: HttpRequest,
    ctx: RequestContext,
    *,
    token_form: TokenForm | None = None,
    invite_form: InviteForm | None = None,
    created: tuple[ApiToken, str] | None = None,
    member_errors: dict[int, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    manages_members = ctx.can(MEMBERS_MANAGE)
    members = (
        list(membership_list(tenant=ctx.tenant))
        if manages_members or token_reach(ctx.permissions) == "tenant"
        else []
    )
    tokens = list(api_token_list(credential=ctx)[:TOKENS_SHOWN])
    context = {
        "reach": token_reach(ctx.permissions),
        "tokens": tokens,
        "token_form": token_form or TokenForm(ctx=ctx, members=members),
        "created": created,
        "manages_members": manages_members,
        "members": members,
        "invitations": list(invitation_list_open(tenant=ctx.tenant)) if manages_members else [],
        "invite_form": invite_form or InviteForm(),
        "roles": Role.choices,
        "member_errors": member_errors or {},
        "sso_enabled": sso_config_for_sign_in(tenant=ctx.tenant) is not None,
    }
    response = render(request, "portal/settings/index.html", context, status=status)
    if created is not None:
        response["Cache-Control"] = "private, no-store"  # the secret is in this page, shown once
    return response


@require_safe
@portal_view()
def settings_view(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    _require_settings(ctx)
    return _settings_page(request, ctx)


@require_POST
@portal_view()
def token_create_view(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    _require_settings(ctx)
    members = list(membership_list(tenant=ctx.tenant)) if token_reach(ctx.permissions) == "tenant" else []
    form = TokenForm(request.POST, ctx=ctx, members=members)
    if not form.is_valid():
        return _settings_page(request, ctx, token_form=form, status=400)
    try:
        created = api_token_create_as(
            credential=ctx,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"] or None,
            expires_at=form.expires_at(),
            member_id=form.cleaned_data.get("member"),
        )
    except InvalidInputError as error:
        form_add_issues(form, error, {"name": "name", "scopes": "scopes", "expires_at": "expires_on"})
        return _settings_page(request, ctx, token_form=form, status=400)
    return _settings_page(request, ctx, created=created, status=201)


@require_POST
@portal_view()
def token_revoke_view(request: HttpRequest, ctx: RequestContext, token_id: int) -> HttpResponse:
    _require_settings(ctx)
    token = api_token_revoke_as(credential=ctx, token_id=token_id)
    messages.success(request, f"Token “{token.name}” is revoked, with every token created from it.")
    return redirect("portal-settings")


@require_POST
@portal_view(MEMBERS_MANAGE)
def member_invite_view(request: HttpRequest, ctx: RequestContext) -> HttpResponse:
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, ctx, invite_form=form, status=400)
    try:
        invitation = invitation_create_as(
            credential=ctx,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            accept_url_base=request.build_absolute_uri("/invitations/"),
        )
    except InvalidInputError as error:
        form_add_issues(form, error, {"email": "email", "role": "role"})
        return _settings_page(request, ctx, invite_form=form, status=400)
    messages.success(
        request, f"Invitation sent to {invitation.email} as {invitation.role}.", extra_tags="members"
    )
    return redirect("/settings/#members")


@require_POST
@portal_view(MEMBERS_MANAGE)
def member_role_view(request: HttpRequest, ctx: RequestContext, membership_id: int) -> HttpResponse:
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _settings_page(
            request, ctx, member_errors={membership_id: "Choose one of the roles."}, status=400
        )
    try:
        member = membership_role_change_as(
            credential=ctx, membership_id=membership_id, role=form.cleaned_data["role"]
        )
    except ConflictError as error:
        return _settings_page(request, ctx, member_errors={membership_id: error.detail}, status=409)
    messages.success(request, f"{member.user.email} is now {member.role}.", extra_tags="members")
    return redirect("/settings/#members")


@require_POST
@portal_view(MEMBERS_MANAGE)
def member_remove_view(request: HttpRequest, ctx: RequestContext, membership_id: int) -> HttpResponse:
    try:
        member = membership_get(tenant=ctx.tenant, membership_id=membership_id).user.email
        membership_remove_as(credential=ctx, membership_id=membership_id)
    except ConflictError as error:
        return _settings_page(request, ctx, member_errors={membership_id: error.detail}, status=409)
    if membership_id == ctx.membership.pk:
        return redirect("portal-login")  # removed themself: no longer a member here
    messages.success(
        request, f"{member} no longer has access to {ctx.tenant.name}; their tokens are deleted."
    )
    return redirect("/settings/#members")


@require_POST
@portal_view(MEMBERS_MANAGE)
def invitation_revoke_view(request: HttpRequest, ctx: RequestContext, invitation_id: int) -> HttpResponse:
    invitation = invitation_revoke_as(credential=ctx, invitation_id=invitation_id)
    messages.success(
        request,
        f"The invitation of {invitation.email} is withdrawn; its link no longer works.",
        extra_tags="members",
    )
    return redirect("/settings/#members")
