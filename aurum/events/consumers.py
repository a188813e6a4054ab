"""``/ws/events/``: a tenant's domain events, for its members only, for as long as their credential holds.

Close codes are in ``aurum.events.auth`` (4401 credential, 4403 tenant suspended, 4404 unknown host,
4429 too many connects).
"""

import asyncio
import contextlib
import math
import time
from typing import Any

import structlog
from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db import DatabaseError

from aurum.api.throttling import rate_take
from aurum.events.auth import (
    CLOSE_SUSPENDED,
    CLOSE_THROTTLED,
    Refusal,
    SocketCredential,
    credential_refusal,
)
from aurum.events.channel import member_group, tenant_group

log = structlog.get_logger(__name__)

# An event is delivered only if the credential was checked at most this long ago, else it is checked first:
# at most one check per socket and second however many events arrive.
EVENT_RECHECK_SECONDS = 1.0
CLOSE_INTERNAL_ERROR = 1011  # RFC 6455: the server met a condition that prevented it from going on


class EventStreamConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    group: str | None = None
    member: str | None = None
    credential: SocketCredential | None = None
    checked_at = 0.0
    closing = False
    watcher: "asyncio.Task[None] | None" = None

    async def connect(self) -> None:
        credential = self.scope["aurum_credential"]
        if isinstance(credential, Refusal):
            await self._refuse(credential)
            return
        tenant = credential.membership.tenant
        if not tenant.is_active:
            await self._refuse(Refusal(CLOSE_SUSPENDED, "tenant suspended"))
            return
        per_minute = settings.AURUM_WS_CONNECTS_PER_MINUTE
        state = await sync_to_async(rate_take, thread_sensitive=False)(
            key=credential.throttle_key, burst=per_minute, per_second=per_minute / 60
        )
        if state is not None and state.retry_after is not None:
            retry = math.ceil(state.retry_after)
            await self._refuse(Refusal(CLOSE_THROTTLED, f"too many connects; retry in {retry} s"))
            return
        self.credential = credential
        self.group = tenant_group(tenant.schema_name)
        # The member's own group too: events addressed to one member (their notices) reach only their sockets.
        self.member = member_group(tenant.schema_name, credential.membership.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.channel_layer.group_add(self.member, self.channel_name)
        await self.accept()
        self.checked_at = time.monotonic()
        await self.send_json({"type": "stream.ready", "tenant": tenant.schema_name})
        self.watcher = asyncio.create_task(self._watch(settings.AURUM_WS_RECHECK_SECONDS))

    async def disconnect(self, code: int) -> None:
        if self.watcher is not None and self.watcher is not asyncio.current_task():
            self.watcher.cancel()
        await self._leave()

    async def domain_event(self, message: dict[str, Any]) -> None:
        if self.group is None:
            return  # closing: the credential no longer holds
        if time.monotonic() - self.checked_at >= EVENT_RECHECK_SECONDS and not await self._still_authorised():
            return
        await self.send_json(message["event"])

    async def _watch(self, interval: float) -> None:
        """Re-check the credential every ``interval`` seconds until it no longer holds. A check that fails
        for a reason other than an unreachable database closes the socket (1011, logged): a socket whose
        credential cannot be checked does not keep receiving events, and the task never ends with an
        exception nobody retrieves."""
        try:
            while True:
                await asyncio.sleep(interval)
                if not await self._still_authorised():
                    return
        except Exception:
            log.exception("websocket credential re-check failed; closing the socket")
            with contextlib.suppress(Exception):  # the server may be shutting down under it
                await self._shut(CLOSE_INTERNAL_ERROR, "credential check failed")

    async def _still_authorised(self) -> bool:
        """Re-check the credential; close the socket (and say why) when it no longer holds."""
        if self.credential is None or self.closing:
            return False
        try:
            refusal = await credential_refusal(self.credential)
        except DatabaseError as exc:
            # The database is unreachable: keep the socket and check again next time rather than drop
            # every client at once.
            log.warning("websocket credential not re-checked: database unavailable", error=str(exc))
            return True
        self.checked_at = time.monotonic()
        if refusal is None:
            return True
        await self._shut(refusal.code, refusal.reason)
        return False

    async def _shut(self, code: int, reason: str) -> None:
        """Stop delivering (leave the groups) and close the socket, saying why."""
        self.closing = True
        await self._leave()
        await self.close(code=code, reason=reason[:120])

    async def _refuse(self, refusal: Refusal) -> None:
        # Accept, then close with a specific code and reason: clients learn why (a refused handshake says
        # only 403). Such a socket never joins a group.
        await self.accept()
        await self.close(code=refusal.code, reason=refusal.reason[:120])

    async def _leave(self) -> None:
        if self.group is not None:
            group, self.group = self.group, None
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.member is not None:
            member, self.member = self.member, None
            await self.channel_layer.group_discard(member, self.channel_name)
