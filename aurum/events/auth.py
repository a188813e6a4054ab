"""Websocket authentication: the same credentials and tenant rules as HTTP, resolved once at connect."""

from typing import Any
from urllib.parse import parse_qs, urlparse

from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.conf import settings

from apps.accounts.selectors import membership_for
from apps.accounts.services import TokenInvalidError, api_token_authenticate
from tenants.selectors import tenant_for_host


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


@database_sync_to_async
def _resolve(scope: dict[str, Any], raw_token: str | None, user: Any) -> tuple[Any, str]:
    host = (_header(scope, b"host") or "").split(":")[0].lower()
    host_tenant = None if host in settings.AURUM_PUBLIC_HOSTS else tenant_for_host(hostname=host)
    if raw_token:
        try:
            token = api_token_authenticate(raw=raw_token)
        except TokenInvalidError as invalid:
            return None, f"invalid token ({invalid.reason})"
        tenant = token.membership.tenant
        if host_tenant is not None and host_tenant.pk != tenant.pk:
            return None, "token of another tenant"
        if "curves:read" not in token.permissions and "scenarios:read" not in token.permissions:
            return None, "token lacks read scope"
        return token.membership, ""
    origin = _header(scope, b"origin")
    if origin and (urlparse(origin).hostname or "").lower() != host:
        return None, "cross-origin session refused"  # a cookie alone must not open another site's socket
    if host_tenant is not None and user is not None and user.is_authenticated:
        membership = membership_for(user=user, tenant=host_tenant)
        if membership is not None:
            return membership, ""
    return None, "authentication required"


class TenantAuthMiddleware(BaseMiddleware):
    """Sets ``scope["aurum_membership"]`` (or a refusal reason) from a bearer token or the portal session.

    Browsers cannot set headers on a websocket, so a token may also come as ``?token=``.
    """

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        raw = None
        header = _header(scope, b"authorization")
        if header and header.lower().startswith("bearer "):
            raw = header[7:].strip()
        if raw is None:
            raw = (parse_qs(scope.get("query_string", b"").decode()).get("token") or [None])[0]
        user = await get_user(scope) if raw is None and "session" in scope else None
        membership, reason = await _resolve(scope, raw, user)
        scope = dict(scope, aurum_membership=membership, aurum_refusal=reason)
        return await super().__call__(scope, receive, send)
