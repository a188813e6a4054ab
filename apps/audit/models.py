"""The audit ledger of one tenant (tenant schema): an append-only, hash-chained list of business actions.

Each tenant's schema has its own table, so an entry carries its tenant by where it lives and no query of one
tenant can reach another's. Rows are only ever inserted (``apps.audit.services.audit_append``); a database
trigger refuses UPDATE, DELETE and TRUNCATE (migration 0001).
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models

from apps.audit.canonical import CHAIN_VERSION, entry_body, timestamp_text


class ActorKind(models.TextChoices):
    USER = "user", "User"
    TOKEN = "token", "API token"
    SYSTEM = "system", "System"


class AuditEntry(models.Model):
    """One recorded action. ``sequence`` runs 1, 2, 3 … without gaps; ``hash`` chains it to the entry before.

    ``changes`` is canonical JSON text (kept as text, not jsonb, so the hashed bytes are exactly what was
    stored: jsonb rewrites numbers and key order).
    """

    sequence = models.BigIntegerField(primary_key=True)
    at = models.DateTimeField()
    actor_kind = models.CharField(max_length=8, choices=ActorKind.choices)
    actor_id = models.CharField(max_length=64, blank=True, default="")
    actor_display = models.CharField(max_length=300, blank=True, default="")
    action = models.CharField(max_length=64)
    resource_type = models.CharField(max_length=64)
    resource_id = models.CharField(max_length=128, blank=True, default="")
    changes = models.TextField(default="{}")
    request_id = models.CharField(max_length=128, blank=True, default="")
    remote_addr = models.CharField(max_length=64, blank=True, default="")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # Chain version (apps.audit.canonical): 1 for entries written before decision 0033, 2 since.
    version = models.PositiveSmallIntegerField(default=CHAIN_VERSION)
    # Personal values outside the hash (version 2): canonical JSON text, e.g. {"email": "..."}.
    personal = models.TextField(default="{}")
    # A version-1 entry whose personal data an erasure rewrote: the sequence of that ``person.erase`` entry
    # (which lists this one). Its hash is then no longer recomputed; its links still are.
    redacted_by = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["sequence"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["at"], name="audit_at"),
            models.Index(fields=["action", "sequence"], name="audit_action"),
            models.Index(fields=["resource_type", "resource_id", "sequence"], name="audit_resource"),
            models.Index(fields=["actor_kind", "actor_id", "sequence"], name="audit_actor"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.resource_type}:{self.resource_id}"

    @property
    def changes_data(self) -> Any:
        return json.loads(self.changes)

    @property
    def personal_data(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.personal)
        return data

    def body(self) -> dict[str, Any]:
        """The hashed fields (canonical shapes), as exports write them."""
        return entry_body(
            sequence=self.sequence,
            at=timestamp_text(self.at),
            actor_kind=self.actor_kind,
            actor_id=self.actor_id,
            actor_display=self.actor_display,
            action=self.action,
            resource_type=self.resource_type,
            resource_id=self.resource_id,
            changes=self.changes_data,
            request_id=self.request_id,
            remote_addr=self.remote_addr,
            version=self.version,
        )
