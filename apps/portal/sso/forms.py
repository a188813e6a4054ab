"""The form of ``/settings/sso/``. The client secret is write-only: an empty field keeps the stored one."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.accounts.models import TenantSsoConfig
from apps.accounts.roles import Role
from apps.accounts.sso.claims import role_mapping_parse, role_mapping_text

# The service's issue fields → this form's fields.
ISSUE_FIELDS = {name: name for name in ("issuer", "client_id", "scopes", "role_claim", "default_role")}
ISSUE_FIELDS["role_mapping"] = "role_mapping"


class SsoConfigForm(forms.Form):
    is_enabled = forms.BooleanField(
        required=False, label="Enabled", help_text="Show the sign-in button and accept sign-ins."
    )
    issuer = forms.CharField(
        max_length=500,
        widget=forms.URLInput(attrs={"placeholder": "https://login.example.com/realms/acme"}),
        help_text="The provider's issuer URL, exactly as in its tokens (its discovery document is read from "
        "it).",
    )
    client_id = forms.CharField(max_length=255, label="Client id")
    client_secret = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text="Write-only. Leave empty to keep the stored secret.",
    )
    scopes = forms.CharField(max_length=500, initial="openid email profile")
    button_label = forms.CharField(
        required=False,
        max_length=80,
        help_text="E.g. “Sign in with Okta”. Empty: “Sign in with single sign-on”.",
    )
    role_claim = forms.CharField(
        max_length=100, initial="groups", help_text="The claim with groups or roles."
    )
    role_mapping = forms.CharField(
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 5, "placeholder": "aurum-admins = admin\naurum-traders = trader"}
        ),
        help_text="One “claim value = role” per line. Several matching: the most privileged role.",
    )
    default_role = forms.ChoiceField(
        required=False,
        choices=[("", "None: refuse the sign-in"), *Role.choices],
        help_text="The role when no claim value maps.",
    )
    jit_provisioning = forms.BooleanField(
        required=False, label="Provision members on first sign-in", help_text="Else only invited members."
    )
    sso_only = forms.BooleanField(
        required=False, label="Single sign-on only", help_text="Members can no longer sign in with passwords."
    )
    provider_logout = forms.BooleanField(
        required=False, label="Sign out at the provider too", help_text="Ends the provider's session."
    )
    jwt_enabled = forms.BooleanField(
        required=False,
        label="Accept bearer JWTs on the v1 API",
        help_text="Integrators send the provider's JWT with X-Tenant-ID; aurum_ tokens keep working.",
    )
    jwt_audience = forms.CharField(
        required=False, max_length=255, label="JWT audience", help_text="Empty: the client id."
    )

    @classmethod
    def for_config(cls, config: TenantSsoConfig | None) -> SsoConfigForm:
        if config is None:
            return cls()
        initial: dict[str, Any] = {name: getattr(config, name) for name in cls.base_fields}
        initial["client_secret"] = ""
        initial["role_mapping"] = role_mapping_text(config.role_mapping)
        return cls(initial=initial)

    def clean_role_mapping(self) -> dict[str, str]:
        try:
            return role_mapping_parse(self.cleaned_data["role_mapping"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error

    def values(self) -> dict[str, Any]:
        return {name: value for name, value in self.cleaned_data.items() if name != "client_secret"}

    def secret_given(self) -> str | None:
        return self.cleaned_data["client_secret"] or None


class IssuerCheckForm(forms.Form):
    issuer = forms.CharField(max_length=500)
