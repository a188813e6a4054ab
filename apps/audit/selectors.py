"""Reads of the audit ledger: the filtered list (newest first) and the head of the chain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from apps.audit.canonical import GENESIS_HASH
from apps.audit.models import ActorKind, AuditEntry
from aurum.errors import InvalidInputError


@dataclass(frozen=True)
class ChainHead:
    """The last entry's sequence and hash (0 and the genesis hash for an empty ledger)."""

    sequence: int
    hash: str


def audit_head() -> ChainHead:
    head = AuditEntry.objects.order_by("-sequence").values_list("sequence", "hash").first()
    return ChainHead(*head) if head else ChainHead(0, GENESIS_HASH)


def _actor_filter(actor: str) -> Q:
    kind, _, actor_id = actor.partition(":")
    if kind not in ActorKind.values:
        raise InvalidInputError.field(
            "actor", "actor is a kind (user, token, system) or kind:id, e.g. token:12 or user:5."
        )
    return Q(actor_kind=kind, actor_id=actor_id) if actor_id else Q(actor_kind=kind)


def audit_entry_list(
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    actor: str = "",
    action: str = "",
    resource: str = "",
    before_sequence: int | None = None,
) -> QuerySet[AuditEntry]:
    """The current tenant's entries, newest first. ``start``/``end``: ``at`` in [start, end); ``actor``:
    ``kind`` or ``kind:id``; ``action``: exact, or a prefix ending in ``.`` (``scenario.``); ``resource``:
    ``type`` or ``type:id``; ``before_sequence``: older entries only (the portal's keyset pages)."""
    entries = AuditEntry.objects.all()
    if before_sequence is not None:
        entries = entries.filter(sequence__lt=before_sequence)
    if start is not None:
        entries = entries.filter(at__gte=start)
    if end is not None:
        entries = entries.filter(at__lt=end)
    if actor:
        entries = entries.filter(_actor_filter(actor))
    if action:
        entries = (
            entries.filter(action__startswith=action)
            if action.endswith(".")
            else entries.filter(action=action)
        )
    if resource:
        resource_type, _, resource_id = resource.partition(":")
        entries = entries.filter(resource_type=resource_type)
        if resource_id:
            entries = entries.filter(resource_id=resource_id)
    return entries.order_by("-sequence")
