from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.models import ApiToken, Invitation, Membership, TenantSsoConfig, User
from apps.accounts.services import api_token_create, api_token_revoke
from apps.accounts.sso.services import AUDITED_FIELDS, sso_config_issues, sso_config_save


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fk_name = "user"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "full_name"]
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name",)}),
        ("Platform", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ()
    list_filter = ["is_staff", "is_active"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "role", "created"]
    list_filter = ["role", "tenant"]
    search_fields = ["user__email", "tenant__name"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "membership", "created", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["membership__tenant"]
    search_fields = ["name", "prefix", "membership__user__email"]
    # Revocation goes through the action (it revokes the tokens created from a token too), never an edit.
    readonly_fields = ["prefix", "key_hash", "created", "last_used_at", "revoked_at", "parent"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:  # type: ignore[override]
        if obj is None:
            return ["membership", "name", "scopes", "expires_at"]
        return [
            "membership",
            "name",
            "prefix",
            "scopes",
            "created",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "parent",
        ]

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        token, raw = api_token_create(
            membership=obj.membership,
            name=obj.name,
            scopes=obj.scopes or None,
            expires_at=obj.expires_at,
            created_by=request.user if request.user.is_authenticated else None,  # type: ignore[arg-type]
        )
        obj.pk = token.pk
        messages.warning(request, f"Token created. Copy it now, it is not shown again: {raw}")

    @admin.action(description="Revoke selected tokens (and the tokens created from them)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            api_token_revoke(token=token)
        messages.success(request, f"Revoked {queryset.count()} token(s) and their descendants.")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Read-only: invitations are made, sent and accepted through the portal's settings."""

    list_display = [
        "email",
        "tenant",
        "role",
        "invited_by",
        "created",
        "expires_at",
        "accepted_at",
        "revoked_at",
    ]
    list_filter = ["role", "tenant"]
    search_fields = ["email", "tenant__name"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SsoConfigAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    issuer = forms.URLField(max_length=500, assume_scheme="https")
    client_secret_new = forms.CharField(
        required=False,
        label="Client secret",
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text="Write-only: the stored secret is never shown. Leave empty to keep it.",
    )

    class Meta:
        model = TenantSsoConfig
        # The secret is the write-only field above, never the model's (sealed) value.
        fields = ["tenant", *AUDITED_FIELDS]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        for issue in sso_config_issues(cleaned):
            self.add_error(issue.field if issue.field in self.fields else None, issue.message)
        return cleaned


@admin.register(TenantSsoConfig)
class TenantSsoConfigAdmin(admin.ModelAdmin):
    """Saved through the service the portal uses: validated, audited in the tenant's ledger (no secret)."""

    form = SsoConfigAdminForm
    list_display = ["tenant", "issuer", "client_id", "is_enabled", "sso_only", "jwt_enabled", "updated"]
    list_filter = ["is_enabled", "sso_only", "jwt_enabled"]
    search_fields = ["tenant__name", "issuer", "client_id"]
    readonly_fields = ["updated"]

    def get_readonly_fields(self, request: HttpRequest, obj: TenantSsoConfig | None = None) -> list[str]:  # type: ignore[override]
        return ["tenant", "updated"] if obj is not None else ["updated"]

    def save_model(self, request: HttpRequest, obj: TenantSsoConfig, form: Any, change: bool) -> None:
        values = {name: form.cleaned_data[name] for name in AUDITED_FIELDS if name in form.cleaned_data}
        saved = sso_config_save(
            tenant=obj.tenant,
            values=values,
            client_secret=form.cleaned_data.get("client_secret_new") or None,
        )
        obj.pk = saved.pk
