"""Who is acting, under which request id and from which address: the defaults of ``audit_append``.

The request middleware (``apps.audit.middleware``) sets it once the tenant middleware has resolved the
credential (a session's user or a bearer token); a Celery task sets it with ``audit_actor_as`` (the run's
submitter when known); anything else acts as "system".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from apps.audit.models import ActorKind

if TYPE_CHECKING:
    from apps.accounts.models import ApiToken, User


@dataclass(frozen=True)
class AuditActor:
    kind: str
    id: str = ""
    display: str = ""


SYSTEM = AuditActor(kind=ActorKind.SYSTEM, id="", display="system")


@dataclass(frozen=True)
class AuditContext:
    actor: AuditActor = SYSTEM
    request_id: str = ""
    remote_addr: str = ""


_CURRENT: ContextVar[AuditContext | None] = ContextVar("aurum_audit_context", default=None)


def actor_for_user(user: User) -> AuditActor:
    return AuditActor(kind=ActorKind.USER, id=str(user.pk), display=user.email)


def actor_for_token(token: ApiToken) -> AuditActor:
    """A token acts for its member; the display names both (``ci-bot (ana@acme.test)``)."""
    return AuditActor(
        kind=ActorKind.TOKEN, id=str(token.pk), display=f"{token.name} ({token.membership.user.email})"
    )


def audit_context() -> AuditContext:
    """The current context (a system context with no request outside a request or task that set one)."""
    return _CURRENT.get() or AuditContext()


@contextmanager
def audit_context_set(context: AuditContext) -> Iterator[AuditContext]:
    marker = _CURRENT.set(context)
    try:
        yield context
    finally:
        _CURRENT.reset(marker)


@contextmanager
def audit_actor_as(actor: AuditActor) -> Iterator[AuditContext]:
    """Entries appended inside name ``actor`` (request id and address kept from the outer context)."""
    with audit_context_set(replace(audit_context(), actor=actor)) as context:
        yield context
