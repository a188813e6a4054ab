"""Choose the tenant (and its schema) for each request, failing closed.

- Portal: the tenant is the one whose domain is the request's host (``acme.localhost``).
- API: the credential decides. A token belongs to one tenant; a session user with several memberships names
  one with ``X-Aurum-Tenant``. On the v1 API a bearer that is not an ``aurum_`` token is a JWT of a tenant's
  issuer (decision 0032): the tenant is the one ``X-Tenant-ID`` (or ``X-Aurum-Tenant``, or the host) names.
  A credential never reaches a tenant it does not belong to: such a request gets a problem response, never
  data.
- Platform hosts (``AURUM_PUBLIC_HOSTS``) without a tenant credential serve the public schema: admin, health.
"""

from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import set_urlconf
from django_tenants.postgresql_backend.base import FakeTenant

from apps.accounts.models import ApiToken, Membership, User
from apps.accounts.selectors import membership_for
from apps.accounts.services import TokenInvalidError, api_token_authenticate
from apps.accounts.sso.bearer import jwt_bearer_authenticate
from apps.accounts.sso.tokens import JwtInvalidError
from apps.accounts.tokens import TOKEN_PREFIX
from aurum import original_paths
from aurum.api.context import RequestContext, request_context_set
from aurum.api.problems import problem_response
from aurum.observability.context import context_bind
from aurum.tenancy.db import tenant_connection
from tenants.models import Tenant
from tenants.selectors import tenant_for_host, tenant_named

TENANT_HEADER = "X-Aurum-Tenant"
# The original Aurum's tenant header, read for bearer JWTs on the v1 API (spec 3.1).
ORIGINAL_TENANT_HEADER = "X-Tenant-ID"
V1_PREFIXES = ("/api/v1/", original_paths.V1_PREFIX)
JwtCredential = tuple[Membership, dict[str, Any], frozenset[str]]
# Paths that never depend on a tenant, and answer even for suspended or unknown ones.
TENANTLESS_PATHS = ("/health/", "/metrics")
# The original Aurum's probes (aurum/original_paths.py) are answered without a tenant too.


JWT_ATTRIBUTE = "aurum_jwt_credential"


class TenantRefusedError(Exception):
    def __init__(self, status_code: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status_code, self.title, self.detail = status_code, title, detail


def _hostname(request: HttpRequest) -> str:
    return request.get_host().split(":")[0].lower()


def _bearer(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def _named_tenant_matches(request: HttpRequest, tenant: Tenant) -> bool:
    named = request.headers.get(TENANT_HEADER)
    return named is None or named in (tenant.schema_name, str(tenant.pk))


class TenantResolutionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        connection = tenant_connection()
        connection.set_schema_to_public()
        # django-tenants' admin templates read request.tenant.schema_name even on the platform host.
        request.tenant = FakeTenant(schema_name="public")  # type: ignore[attr-defined]
        request_context_set(request, None)
        if request.path.startswith(TENANTLESS_PATHS) or request.path in original_paths.PROBE_PATHS:
            self._route(request, None)
            return self.get_response(request)
        try:
            tenant, membership, token = self._resolve(request)
        except TenantRefusedError as refused:
            return problem_response(
                request, status_code=refused.status_code, title=refused.title, detail=refused.detail
            )
        if tenant is not None and not tenant.is_active:
            return problem_response(
                request,
                status_code=403,
                title="Tenant suspended",
                detail=(
                    f"The tenant '{tenant.name}' is suspended. Its data is kept; contact your administrator."
                ),
            )
        if tenant is not None:
            request.tenant = tenant  # type: ignore[attr-defined]
        jwt: JwtCredential | None = getattr(request, JWT_ATTRIBUTE, None)
        if tenant is not None and membership is not None:
            permissions = token.permissions if token is not None else membership.permissions
            if jwt is not None:
                permissions = jwt[2]
            request_context_set(
                request,
                RequestContext(
                    tenant=tenant,
                    membership=membership,
                    permissions=permissions,
                    token=token,
                    jwt_claims=jwt[1] if jwt is not None else None,
                ),
            )
        if tenant is not None:
            connection.set_tenant(tenant)
        context_bind(
            tenant=tenant.schema_name if tenant else "public",
            user=membership.user.email if membership else None,
        )
        self._route(request, tenant)
        try:
            return self.get_response(request)
        finally:
            connection.set_schema_to_public()

    @staticmethod
    def _route(request: HttpRequest, tenant: Tenant | None) -> None:
        request.urlconf = settings.ROOT_URLCONF if tenant else settings.PUBLIC_SCHEMA_URLCONF  # type: ignore[attr-defined]
        set_urlconf(request.urlconf)  # type: ignore[attr-defined]

    def _resolve(self, request: HttpRequest) -> tuple[Tenant | None, Membership | None, ApiToken | None]:
        hostname = _hostname(request)
        host_tenant = None if hostname in settings.AURUM_PUBLIC_HOSTS else tenant_for_host(hostname=hostname)
        if host_tenant is None and hostname not in settings.AURUM_PUBLIC_HOSTS:
            raise TenantRefusedError(404, "Unknown tenant", f"No tenant is served at '{hostname}'.")

        raw = _bearer(request)
        if raw is not None and not raw.startswith(TOKEN_PREFIX) and request.path.startswith(V1_PREFIXES):
            return self._resolve_jwt(request, raw, host_tenant)
        if raw is not None:
            return self._resolve_token(request, raw, host_tenant)

        user = request.user
        if not user.is_authenticated:
            return host_tenant, None, None
        if host_tenant is not None:
            if not _named_tenant_matches(request, host_tenant):
                raise TenantRefusedError(404, "Unknown tenant", "No such tenant for this credential.")
            # A user who is not a member here is treated as signed out on this tenant's host.
            return host_tenant, membership_for(user=user, tenant=host_tenant), None
        return self._resolve_session_on_platform_host(request)

    @staticmethod
    def _resolve_token(
        request: HttpRequest, raw: str, host_tenant: Tenant | None
    ) -> tuple[Tenant, Membership, ApiToken]:
        try:
            token = api_token_authenticate(raw=raw)
        except TokenInvalidError as invalid:
            raise TenantRefusedError(
                401, "Invalid token", f"The bearer token is not valid ({invalid.reason})."
            ) from invalid
        tenant = token.membership.tenant
        if (host_tenant is not None and host_tenant.pk != tenant.pk) or not _named_tenant_matches(
            request, tenant
        ):
            raise TenantRefusedError(404, "Unknown tenant", "No such tenant for this credential.")
        return tenant, token.membership, token

    @staticmethod
    def _resolve_jwt(
        request: HttpRequest, raw: str, host_tenant: Tenant | None
    ) -> tuple[Tenant, Membership, None]:
        named = request.headers.get(ORIGINAL_TENANT_HEADER) or request.headers.get(TENANT_HEADER)
        tenant = host_tenant
        if named is not None:
            tenant = tenant_named(named=named)
            if host_tenant is not None and (tenant is None or tenant.pk != host_tenant.pk):
                raise TenantRefusedError(404, "Unknown tenant", "No such tenant for this credential.")
        if tenant is None:
            # The same answer for a tenant that does not exist and one that accepts no JWTs.
            reason = (
                "name the tenant in the X-Tenant-ID header"
                if named is None
                else "this tenant accepts no JWTs here; use an aurum_ API token"
            )
            raise TenantRefusedError(401, "Invalid token", f"The bearer token is not valid ({reason}).")
        try:
            membership, claims, permissions = jwt_bearer_authenticate(tenant=tenant, raw=raw)
        except JwtInvalidError as invalid:
            raise TenantRefusedError(
                401, "Invalid token", f"The bearer token is not valid ({invalid.reason})."
            ) from invalid
        setattr(request, JWT_ATTRIBUTE, (membership, claims, permissions))
        return tenant, membership, None

    @staticmethod
    def _resolve_session_on_platform_host(
        request: HttpRequest,
    ) -> tuple[Tenant | None, Membership | None, None]:
        if not request.path.startswith(("/api/", "/v1/")):
            return None, None, None
        memberships = list(
            Membership.objects.select_related("tenant__plan", "user").filter(user=cast(User, request.user))
        )
        named = request.headers.get(TENANT_HEADER)
        if named is not None:
            chosen = [m for m in memberships if named in (m.tenant.schema_name, str(m.tenant.pk))]
            if not chosen:
                raise TenantRefusedError(404, "Unknown tenant", "No such tenant for this credential.")
            return chosen[0].tenant, chosen[0], None
        if len(memberships) == 1:
            return memberships[0].tenant, memberships[0], None
        if not memberships:
            raise TenantRefusedError(404, "Unknown tenant", "This user is not a member of any tenant.")
        raise TenantRefusedError(
            400,
            "Tenant required",
            f"This user belongs to several tenants; name one in the {TENANT_HEADER} header.",
        )
