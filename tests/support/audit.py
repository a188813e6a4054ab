"""Helpers of the audit tests: a tenant's ledger read and tampered with directly in its schema.

Tampering needs the append-only trigger off, which only the table's owner may do (the test database's
user owns it, as the migrating role does in production): ``ALTER TABLE … DISABLE TRIGGER`` inside the
test's transaction, so the rollback restores both the rows and the trigger.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection
from django_tenants.utils import schema_context

from apps.audit.canonical import entry_hash
from apps.audit.models import AuditEntry

TABLE = "audit_auditentry"


def ledger(schema: str) -> list[AuditEntry]:
    with schema_context(schema):
        return list(AuditEntry.objects.order_by("sequence"))


def head_sequence(schema: str) -> int:
    with schema_context(schema):
        head = AuditEntry.objects.order_by("-sequence").values_list("sequence", flat=True).first()
    return head or 0


@contextmanager
def triggers_off(schema: str) -> Iterator[Any]:
    """A cursor in ``schema`` with the ledger's triggers disabled (re-enabled on exit)."""
    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        try:
            yield cursor
        finally:
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")


def forged_hash(entry: AuditEntry, *, prev_hash: str, **fields: Any) -> str:
    """The hash an attacker who knows the algorithm computes for ``entry`` changed by ``fields``."""
    for name, value in fields.items():
        setattr(entry, name, value)
    entry.prev_hash = prev_hash
    return entry_hash(prev_hash, entry.body())
