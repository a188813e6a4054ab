"""Reads of tenants' SSO configurations."""

from __future__ import annotations

from apps.accounts.models import TenantSsoConfig
from tenants.models import Tenant


def sso_config_get(*, tenant: Tenant) -> TenantSsoConfig | None:
    """The tenant's configuration, enabled or not (the settings page)."""
    return TenantSsoConfig.objects.filter(tenant=tenant).first()


def sso_config_for_sign_in(*, tenant: Tenant) -> TenantSsoConfig | None:
    """The tenant's configuration when its SSO is enabled, else None (no button, no flow)."""
    return TenantSsoConfig.objects.filter(tenant=tenant, is_enabled=True).first()


def sso_config_for_bearer(*, tenant: Tenant) -> TenantSsoConfig | None:
    """The tenant's configuration when it accepts its issuer's bearer JWTs on the v1 API."""
    return TenantSsoConfig.objects.filter(tenant=tenant, jwt_enabled=True).first()
