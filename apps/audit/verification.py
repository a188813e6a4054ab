"""Recompute a tenant's chain and name the first entry that does not fit.

Checks, entry by entry in sequence order: the sequence follows the one before (a gap is a deleted entry),
``prev_hash`` is the previous entry's hash (a broken link: an entry inserted, deleted or moved before it),
and ``hash`` is ``sha256(prev_hash + canonical body)`` (the entry's recorded fields were edited).

A version-1 entry redacted by an erasure (``redacted_by``, decision 0033) no longer matches its hash: its
hash is taken as stored (its links are still checked), and the check ends by requiring that the
``person.erase`` entry it names lists it, so only an erasure recorded in the chain can redact an entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from apps.audit.canonical import GENESIS_HASH, entry_hash
from apps.audit.models import AuditEntry

PAGE = 2000
ERASE_ACTION = "person.erase"


@dataclass(frozen=True)
class ChainReport:
    checked: int
    head_sequence: int
    head_hash: str
    bad_sequence: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.bad_sequence is None


@dataclass(frozen=True)
class ChainLink:
    sequence: int
    body: dict[str, Any]
    prev_hash: str
    hash: str
    redacted_by: int | None = None


def chain_check(links: Iterable[ChainLink]) -> ChainReport:
    """The first bad link of a chain given in stored order (a ChainReport with ``bad_sequence`` None when
    every link holds)."""
    expected, prev_hash, checked = 1, GENESIS_HASH, 0
    claimed: dict[int, int] = {}  # redacted sequence -> the erasure entry it names
    listed: dict[int, set[int]] = {}  # erasure entry -> the sequences it redacted
    for link in links:
        if link.sequence != expected:
            reason = (
                f"entry {expected} is missing (the next stored entry is {link.sequence})"
                if link.sequence > expected
                else f"entry {link.sequence} is out of order (expected {expected})"
            )
            return ChainReport(checked, expected - 1, prev_hash, bad_sequence=expected, reason=reason)
        if link.prev_hash != prev_hash:
            reason = (
                f"prev_hash does not match the hash of entry {expected - 1}"
                " (an entry was inserted, removed or moved here)"
            )
            return ChainReport(checked, expected - 1, prev_hash, bad_sequence=expected, reason=reason)
        if link.redacted_by is not None:
            claimed[link.sequence] = link.redacted_by
        elif entry_hash(link.prev_hash, link.body) != link.hash:
            reason = "hash does not match the entry's contents (the entry was edited)"
            return ChainReport(checked, expected - 1, prev_hash, bad_sequence=expected, reason=reason)
        if link.body.get("action") == ERASE_ACTION and link.redacted_by is None:
            listed[link.sequence] = set(link.body.get("changes", {}).get("redacted", []))
        checked, prev_hash, expected = checked + 1, link.hash, expected + 1
    for sequence, erasure in sorted(claimed.items()):
        if sequence not in listed.get(erasure, set()):
            reason = f"entry is marked redacted by entry {erasure}, which is not an erasure listing it"
            return ChainReport(checked, expected - 1, prev_hash, bad_sequence=sequence, reason=reason)
    return ChainReport(checked, expected - 1, prev_hash)


def ledger_links(*, page_size: int = PAGE) -> Iterator[ChainLink]:
    """The current tenant's entries in sequence order, read in keyset pages (constant memory)."""
    after: int | None = None
    while True:
        entries = AuditEntry.objects.order_by("sequence")
        if after is not None:
            entries = entries.filter(sequence__gt=after)
        page = list(entries[:page_size])
        for entry in page:
            yield ChainLink(entry.sequence, entry.body(), entry.prev_hash, entry.hash, entry.redacted_by)
        if len(page) < page_size:
            return
        after = page[-1].sequence


def audit_chain_verify() -> ChainReport:
    """Verify the current tenant's whole ledger."""
    return chain_check(ledger_links())
