"""Writes of the audit ledger: ``audit_append`` (called by every business service, in its transaction) and
the nightly verification that raises an alert when a chain is broken.

``audit_append`` is the one entry point for other apps (webhooks, SSO, exports)::

    from apps.audit.services import audit_append

    with transaction.atomic():
        endpoint.save()
        audit_append(action="webhook.endpoint.create", resource_type="webhook_endpoint",
                     resource_id=str(endpoint.pk), changes={"url": endpoint.url})

Call it inside the transaction that makes the change, with the tenant's schema active: the entry commits or
rolls back with the change. It takes a per-tenant advisory lock held until that transaction ends, so the
tenant's audited writes commit one at a time (sequences stay gapless and the chain linear).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import structlog
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.audit.canonical import (
    CHAIN_VERSION,
    GENESIS_HASH,
    canonical_json,
    entry_body,
    entry_hash,
    timestamp_text,
)
from apps.audit.context import AuditActor, AuditContext, audit_context
from apps.audit.models import AuditEntry
from apps.audit.verification import ChainReport, audit_chain_verify
from aurum.events.publish import event_publish_on_commit
from aurum.lakehouse.locks import advisory_xact_lock
from aurum.tenancy.db import tenant_connection

log = structlog.get_logger(__name__)

CHAIN_BROKEN_EVENT = "audit.chain.broken"


def audit_lock_name(schema_name: str) -> str:
    return f"audit:{schema_name}"


@dataclass(frozen=True)
class AuditRecord:
    """One entry for ``audit_append_many`` (the arguments of ``audit_append``)."""

    action: str
    resource_type: str
    resource_id: str | int | UUID
    changes: Mapping[str, Any] | None = None
    actor: AuditActor | None = None
    personal: Mapping[str, Any] | None = None


def audit_append(
    *,
    action: str,
    resource_type: str,
    resource_id: str | int | UUID,
    changes: Mapping[str, Any] | None = None,
    actor: AuditActor | None = None,
    schema_name: str | None = None,
    personal: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Record ``action`` on a resource in the current tenant's ledger, in the caller's transaction.

    ``actor`` defaults to the request's (user or token) or "system"; the request id and remote address
    always come from the context. ``changes`` may hold datetimes, dates, decimals and UUIDs (written as
    canonical strings). ``schema_name`` names the tenant for callers working in the public schema (tokens,
    members): the entry is written there, on the same connection and in the same transaction.
    ``personal``: values that identify a person (a member's or invitee's email), stored beside the hashed
    body so that erasing the person keeps the chain verifying (decision 0033); never put them in ``changes``.
    """
    record = AuditRecord(action, resource_type, resource_id, changes, actor, personal)
    [entry] = audit_append_many([record], schema_name=schema_name)
    return entry


def audit_append_many(records: Sequence[AuditRecord], *, schema_name: str | None = None) -> list[AuditEntry]:
    """Record several entries, in order, in the current tenant's ledger in the caller's transaction: what
    ``audit_append`` does for each, with one lock, one read of the chain's head and one INSERT (a bulk of
    runs submitted or finished together)."""
    current = tenant_connection().schema_name
    if schema_name is not None and schema_name != current:
        with schema_context(schema_name):
            return audit_append_many(records)
    if current == "public":
        raise RuntimeError("audit_append needs a tenant schema (connection.set_tenant or schema_name)")
    if not records:
        return []
    context = audit_context()
    with transaction.atomic():
        advisory_xact_lock(audit_lock_name(current))
        head = AuditEntry.objects.order_by("-sequence").values_list("sequence", "hash").first()
        sequence, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
        entries = []
        for record in records:
            entry = _entry(record, context, sequence=sequence, prev_hash=prev_hash)
            entries.append(entry)
            sequence, prev_hash = sequence + 1, entry.hash
        return AuditEntry.objects.bulk_create(entries)


def _entry(record: AuditRecord, context: AuditContext, *, sequence: int, prev_hash: str) -> AuditEntry:
    who = record.actor or context.actor
    changes_text = canonical_json(dict(record.changes or {}))
    at = timezone.now()
    body = entry_body(
        sequence=sequence,
        at=timestamp_text(at),
        actor_kind=who.kind,
        actor_id=who.id,
        actor_display=who.display,
        action=record.action,
        resource_type=record.resource_type,
        resource_id=str(record.resource_id),
        changes=json.loads(changes_text),
        request_id=context.request_id,
        remote_addr=context.remote_addr,
    )
    return AuditEntry(
        sequence=sequence,
        at=at,
        actor_kind=who.kind,
        actor_id=who.id,
        actor_display=who.display,
        action=record.action,
        resource_type=record.resource_type,
        resource_id=str(record.resource_id),
        changes=changes_text,
        request_id=context.request_id,
        remote_addr=context.remote_addr,
        prev_hash=prev_hash,
        hash=entry_hash(prev_hash, body),
        version=CHAIN_VERSION,
        personal=canonical_json(dict(record.personal or {})),
    )


def audit_verify_and_alert(*, schema_name: str) -> ChainReport:
    """Verify the current tenant's chain; when it is broken, log an error and record the alert event
    ``audit.chain.broken`` (outbox) naming the first bad sequence."""
    report = audit_chain_verify()
    if not report.ok:
        log.error(
            "audit chain broken",
            tenant=schema_name,
            sequence=report.bad_sequence,
            reason=report.reason,
        )
        with transaction.atomic():
            event_publish_on_commit(
                schema_name=schema_name,
                event_type=CHAIN_BROKEN_EVENT,
                payload={
                    "sequence": report.bad_sequence,
                    "reason": report.reason,
                    "checked": report.checked,
                },
            )
    return report


def audit_export_record(*, export_format: str) -> AuditEntry:
    """Record that the current tenant's ledger is being exported (the export then ends with this entry)."""
    with transaction.atomic():
        return audit_append(
            action="audit.export",
            resource_type="audit_ledger",
            resource_id="",
            changes={"format": export_format},
        )
