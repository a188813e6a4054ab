"""Websocket authentication: the same credentials, hosts and tenant rules as HTTP.

The credential is resolved at connect (``TenantAuthMiddleware``) and re-checked while the socket is open
(``credential_refusal``, called by the consumer): a revoked or expired token, a removed membership, a
deactivated user, a signed-out session or a suspended tenant closes the socket.

Close codes (a refused socket is accepted, then closed, so the client learns why; a refused handshake would
only say 403): 4401 credential missing or no longer valid, 4403 tenant suspended, 4404 unknown host,
4429 too many connects.
"""

from dataclasses import dataclass
from importlib import import_module
from typing import Any
from urllib.parse import parse_qs, urlparse

from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.http.request import split_domain_port, validate_host

from apps.accounts.models import ApiToken, Membership
from apps.accounts.selectors import membership_current, membership_for
from apps.accounts.services import TokenInvalidError, api_token_authenticate, api_token_verify
from tenants.selectors import tenant_for_host

CLOSE_UNAUTHORIZED = 4401
CLOSE_SUSPENDED = 4403
CLOSE_UNKNOWN_HOST = 4404
CLOSE_THROTTLED = 4429

READ_PERMISSIONS = frozenset({"curves:read", "scenarios:read"})


@dataclass(frozen=True)
class SocketCredential:
    """What a socket was opened with: a token, or a portal session (its key) of a member."""

    membership: Membership
    token: ApiToken | None = None
    session_key: str | None = None

    @property
    def throttle_key(self) -> str:
        who = f"token:{self.token.pk}" if self.token is not None else f"session:{self.membership.pk}"
        return f"aurum:ws:{self.membership.tenant.schema_name}:{who}"


@dataclass(frozen=True)
class Refusal:
    code: int
    reason: str


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _token_refusal(token: ApiToken) -> Refusal | None:
    if not READ_PERMISSIONS & token.permissions:
        return Refusal(CLOSE_UNAUTHORIZED, "token lacks read scope")
    return None


@database_sync_to_async
def _resolve(scope: dict[str, Any], raw_token: str | None, user: Any) -> SocketCredential | Refusal:
    host, _ = split_domain_port(_header(scope, b"host") or "")
    public = host in settings.AURUM_PUBLIC_HOSTS
    host_tenant = None if public or not host else tenant_for_host(hostname=host)
    # As for HTTP: a host Django would refuse, or one that is neither the platform's nor a tenant's.
    if not validate_host(host, settings.ALLOWED_HOSTS) or (not public and host_tenant is None):
        return Refusal(CLOSE_UNKNOWN_HOST, "unknown host")
    if raw_token:
        try:
            token = api_token_authenticate(raw=raw_token)
        except TokenInvalidError as invalid:
            return Refusal(CLOSE_UNAUTHORIZED, f"invalid token ({invalid.reason})")
        if host_tenant is not None and host_tenant.pk != token.membership.tenant_id:
            return Refusal(CLOSE_UNAUTHORIZED, "token of another tenant")
        return _token_refusal(token) or SocketCredential(membership=token.membership, token=token)
    origin = _header(scope, b"origin")
    if origin and (urlparse(origin).hostname or "").lower() != host:
        # A cookie alone must not open another site's socket.
        return Refusal(CLOSE_UNAUTHORIZED, "cross-origin session refused")
    if host_tenant is not None and user is not None and user.is_authenticated:
        membership = membership_for(user=user, tenant=host_tenant)
        if membership is not None:
            return SocketCredential(membership=membership, session_key=scope["session"].session_key)
    return Refusal(CLOSE_UNAUTHORIZED, "authentication required")


def _session_holds(credential: SocketCredential) -> bool:
    """The session still exists, has not expired and still belongs to the member's user."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=credential.session_key)
    return str(store.load().get(SESSION_KEY)) == str(credential.membership.user_id)


@database_sync_to_async
def credential_refusal(credential: SocketCredential) -> Refusal | None:
    """None while the socket's credential still holds; else why it no longer does, with the close code."""
    if credential.token is not None:
        try:
            token = api_token_verify(token_id=credential.token.pk)
        except TokenInvalidError as invalid:
            return Refusal(CLOSE_UNAUTHORIZED, f"invalid token ({invalid.reason})")
        membership = token.membership
        refusal = _token_refusal(token)
        if refusal is not None:
            return refusal
    else:
        current = membership_current(membership_id=credential.membership.pk)
        if current is None:
            return Refusal(CLOSE_UNAUTHORIZED, "no longer a member")
        if not _session_holds(credential):
            return Refusal(CLOSE_UNAUTHORIZED, "signed out")
        membership = current
    if not membership.tenant.is_active:
        return Refusal(CLOSE_SUSPENDED, "tenant suspended")
    return None


class TenantAuthMiddleware(BaseMiddleware):
    """Sets ``scope["aurum_credential"]`` (a SocketCredential or a Refusal) from a bearer token or the
    portal session. Browsers cannot set headers on a websocket, so a token may also come as ``?token=``."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        raw = None
        header = _header(scope, b"authorization")
        if header and header.lower().startswith("bearer "):
            raw = header[7:].strip()
        if raw is None:
            raw = (parse_qs(scope.get("query_string", b"").decode()).get("token") or [None])[0]
        user = await get_user(scope) if raw is None and "session" in scope else None
        scope = dict(scope, aurum_credential=await _resolve(scope, raw, user))
        return await super().__call__(scope, receive, send)
