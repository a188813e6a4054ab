"""How the OpenAPI document (drf-spectacular) describes Aurum's credentials."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.ApiTokenAuthentication"
    name = "ApiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "aurum_<prefix>_<secret>",
            "description": "An API token: `Authorization: Bearer aurum_…` (it decides the tenant).",
        }


class TenantSessionScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.TenantSessionAuthentication"
    name = "PortalSession"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


class TenantJwtScheme(OpenApiAuthenticationExtension):
    """Bearer JWTs of the tenant's own OIDC issuer: the v1 operations only (docs/sso.md)."""

    target_class = "apps.accounts.authentication.JwtBearerAuthentication"
    name = "TenantJwt"

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list[Any]] | list[dict[str, list[Any]]]:
        if not str(getattr(auto_schema, "path", "")).startswith("/api/v1/"):
            return []  # no requirement of this scheme (extended into the operation's list: nothing)
        return {self.name: []}

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "v1 only: a JWT of the tenant's OpenID Connect issuer, with `X-Tenant-ID` naming "
            "the tenant, once its admin accepts them (docs/sso.md).",
        }
