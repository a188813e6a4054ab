from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from aurum.events.channel import tenant_group

CLOSE_UNAUTHORIZED = 4401
CLOSE_SUSPENDED = 4403


class EventStreamConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """``/ws/events/``: the tenant's domain events, for members of that tenant only."""

    group: str | None = None

    async def connect(self) -> None:
        # Accept, then close with a specific code and reason: clients learn why
        # (a refused handshake says only 403).
        membership = self.scope.get("aurum_membership")
        if membership is None:
            await self.accept()
            await self.close(code=CLOSE_UNAUTHORIZED, reason=self.scope.get("aurum_refusal", "")[:120])
            return
        if not membership.tenant.is_active:
            await self.accept()
            await self.close(code=CLOSE_SUSPENDED, reason="tenant suspended")
            return
        self.group = tenant_group(membership.tenant.schema_name)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "stream.ready", "tenant": membership.tenant.schema_name})

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def domain_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])
