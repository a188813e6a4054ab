"""Writes of single sign-on: a tenant's configuration (audited without its secret) and a sign-in, which maps
the provider's claims to a role, provisions the member just in time when the tenant allows it, updates the
role on every sign-in, and appends ``sso.sign_in`` to the tenant's ledger (decision 0032)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from django.db import transaction

from apps.accounts.models import Membership, TenantSsoConfig, User
from apps.accounts.roles import Role
from apps.accounts.sso.claims import MAX_MAPPINGS, role_from_claims
from apps.accounts.sso.discovery import discovery_forget, issuer_problem
from apps.audit.context import actor_for_user
from apps.audit.services import audit_append
from aurum.errors import InvalidInputError, Issue
from tenants.models import Tenant

AUDITED_FIELDS = (
    "is_enabled",
    "issuer",
    "client_id",
    "scopes",
    "role_claim",
    "role_mapping",
    "default_role",
    "jit_provisioning",
    "sso_only",
    "provider_logout",
    "button_label",
    "jwt_enabled",
    "jwt_audience",
)


class SsoRefusedError(Exception):
    """A sign-in the tenant's rules refuse; ``code`` names the rule (the portal shows a fixed message)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def sso_config_issues(values: Mapping[str, Any]) -> list[Issue]:
    """What is wrong with a configuration's values (empty: nothing)."""
    issues = []
    if problem := issuer_problem(str(values.get("issuer", ""))):
        issues.append(Issue("issuer", problem))
    if not str(values.get("client_id", "")).strip():
        issues.append(Issue("client_id", "The client id is required."))
    if "openid" not in str(values.get("scopes", "")).split():
        issues.append(Issue("scopes", "The scopes must include 'openid'."))
    if not str(values.get("role_claim", "")).strip():
        issues.append(Issue("role_claim", "Name the claim that carries groups or roles, e.g. 'groups'."))
    mapping = values.get("role_mapping", {})
    if not isinstance(mapping, dict) or len(mapping) > MAX_MAPPINGS:
        issues.append(Issue("role_mapping", f"A mapping of at most {MAX_MAPPINGS} claim values to roles."))
    elif bad := sorted(str(v) for v in mapping.values() if v not in Role.values):
        issues.append(Issue("role_mapping", f"Not roles: {', '.join(bad)} (use {', '.join(Role.values)})."))
    if values.get("default_role", "") not in ("", *Role.values):
        issues.append(Issue("default_role", f"Use one of {', '.join(Role.values)}, or none."))
    return issues


@transaction.atomic
def sso_config_save(
    *, tenant: Tenant, values: Mapping[str, Any], client_secret: str | None
) -> TenantSsoConfig:
    """Create or change the tenant's configuration. ``client_secret`` None keeps the stored one."""
    unknown = sorted(set(values) - set(AUDITED_FIELDS))
    if unknown:
        raise InvalidInputError.of(*(Issue(name, f"Unknown field '{name}'.") for name in unknown))
    existing = TenantSsoConfig.objects.select_for_update().filter(tenant=tenant).first()
    config = existing or TenantSsoConfig(tenant=tenant)  # a new one starts from the model's defaults
    before = {name: getattr(config, name) for name in AUDITED_FIELDS}
    if issues := sso_config_issues({**before, **values}):
        raise InvalidInputError.of(*issues)
    for name, value in values.items():
        setattr(config, name, value.strip() if isinstance(value, str) else value)
    secret_changed = client_secret is not None and client_secret != config.client_secret
    if client_secret is not None:
        config.client_secret = client_secret
    old_issuer = before["issuer"] or None
    config.save()
    changes: dict[str, Any] = {
        name: getattr(config, name)
        for name in AUDITED_FIELDS
        if existing is None or before[name] != getattr(config, name)
    }
    if secret_changed:
        changes["client_secret"] = "changed"  # never the secret itself
    audit_append(
        action="sso.config.create" if existing is None else "sso.config.update",
        resource_type="sso_config",
        resource_id=config.pk,
        changes=changes,
        schema_name=tenant.schema_name,
    )
    for issuer in {old_issuer, config.issuer} - {None}:
        transaction.on_commit(partial(discovery_forget, tenant_id=tenant.pk, issuer=str(issuer)))
    return config


def _user_for_sign_in(*, config: TenantSsoConfig, email: str) -> tuple[User | None, Membership | None]:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        return None, None
    if user.is_staff or user.is_superuser or not user.is_active:
        # A tenant's provider never signs in platform staff, nor a deactivated user.
        raise SsoRefusedError("not-allowed")
    membership = Membership.objects.filter(user=user, tenant=config.tenant).first()
    return user, membership


@transaction.atomic
def sso_sign_in(*, config: TenantSsoConfig, claims: Mapping[str, Any]) -> Membership:
    """The member the provider's (verified) claims sign in: role mapped, provisioned if allowed, audited.

    An existing user who is not yet a member here is provisioned like a new one (the tenant's provider
    vouches for the address); one who is a member keeps their account and gets the mapped role.
    """
    email = str(claims.get("email") or "").strip().lower()
    if not email or "@" not in email:
        raise SsoRefusedError("no-email")
    if claims.get("email_verified") is False:
        raise SsoRefusedError("email-unverified")
    role = role_from_claims(
        claims=claims,
        claim=config.role_claim,
        mapping=config.role_mapping,
        default_role=config.default_role,
    )
    if role is None:
        raise SsoRefusedError("no-role")
    user, membership = _user_for_sign_in(config=config, email=email)
    provisioned = membership is None
    if provisioned and not config.jit_provisioning:
        raise SsoRefusedError("not-a-member")
    if user is None:
        # get_or_create: two first sign-ins of one person at once make one user (the loser reads it).
        user, created = User.objects.get_or_create(
            email=email, defaults={"full_name": str(claims.get("name") or "")[:150]}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
    previous_role = membership.role if membership else None
    if membership is None:
        membership, _ = Membership.objects.get_or_create(
            user=user, tenant=config.tenant, defaults={"role": role}
        )
    if membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    changes: dict[str, Any] = {"method": "oidc", "email": email, "role": role, "issuer": config.issuer}
    if provisioned:
        changes["provisioned"] = True
    elif previous_role != role:
        changes["role_from"] = previous_role
    audit_append(
        action="sso.sign_in",
        resource_type="membership",
        resource_id=membership.pk,
        changes=changes,
        actor=actor_for_user(user),
        schema_name=config.tenant.schema_name,
    )
    return membership
