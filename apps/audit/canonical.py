"""The ledger's canonical form: one JSON text per entry, the same in Aurum and in an auditor's script.

Canonical JSON: keys sorted, no whitespace, UTF-8 (no ``\\u`` escapes), datetimes as ISO 8601 in UTC,
dates ISO, decimals and UUIDs as strings. An entry's hash is ``sha256(prev_hash + canonical(body))`` in hex,
where ``body`` holds the recorded fields (``entry_body``). The first entry's ``prev_hash`` is
``GENESIS_HASH``. docs/audit.md repeats this, with a script that checks an export.

Two chain versions (decision 0033): version 1 bodies hold every field but the hashes, the actor's display
(an email) included; version 2 bodies (``"v": 2``) hold no personal data: the actor is its kind and id
(``user:5``, ``token:12``), and the actor's display, the client address and the personal values of an entry
(``personal``: emails of the member or invitee) are stored beside the hashed body, so erasing a person
rewrites them without touching a hash.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

GENESIS_HASH = "0" * 64
CHAIN_VERSION = 2


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return timestamp_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"{type(value).__name__} has no canonical JSON form")


def canonical_json(value: object) -> str:
    """``value`` as canonical JSON text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)


def timestamp_text(value: datetime) -> str:
    """A timestamp's canonical text: UTC, ISO 8601, microseconds always written."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def entry_body(
    *,
    sequence: int,
    at: str,
    actor_kind: str,
    actor_id: str,
    actor_display: str,
    action: str,
    resource_type: str,
    resource_id: str,
    changes: Any,
    request_id: str,
    remote_addr: str,
    version: int = CHAIN_VERSION,
) -> dict[str, Any]:
    """The hashed fields of one entry, in the shape exports write them (``changes`` parsed)."""
    if version >= 2:
        return {
            "v": version,
            "sequence": sequence,
            "at": at,
            "actor": {"kind": actor_kind, "id": actor_id},
            "action": action,
            "resource": {"type": resource_type, "id": resource_id},
            "changes": changes,
            "request_id": request_id,
        }
    return {
        "sequence": sequence,
        "at": at,
        "actor": {"kind": actor_kind, "id": actor_id, "display": actor_display},
        "action": action,
        "resource": {"type": resource_type, "id": resource_id},
        "changes": changes,
        "request_id": request_id,
        "remote_addr": remote_addr,
    }


def entry_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(body)).encode("utf-8")).hexdigest()
