"""A tenant's ledger as a file, written while it is sent: CSV or JSON Lines, in sequence order, read in
keyset pages so memory stays constant however long the ledger is.

Each JSON line is an entry's hashed body (``apps.audit.canonical.entry_body``) plus ``prev_hash`` and
``hash``, and outside the body: ``personal`` (version 2: the actor's display, the client address and the
entry's personal values) and ``redacted_by`` (a version-1 entry an erasure rewrote, decision 0033); the
last line is the trailer ``{"head": {"sequence", "hash"}, "entries": n}``. CSV has the same
fields as columns (``changes`` as its canonical JSON text, the actor and resource split in two columns each)
and no trailer: the head is in the response headers of both formats.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from django_tenants.utils import tenant_context

from apps.audit.canonical import canonical_json
from apps.audit.models import AuditEntry
from apps.audit.selectors import ChainHead
from tenants.models import Tenant

PAGE = 1000
CSV_COLUMNS = (
    "sequence",
    "at",
    "actor_kind",
    "actor_id",
    "actor_display",
    "action",
    "resource_type",
    "resource_id",
    "changes",
    "request_id",
    "remote_addr",
    "prev_hash",
    "hash",
    "version",
    "personal",
    "redacted_by",
)


def export_line(entry: AuditEntry) -> dict[str, object]:
    """One entry as an export writes it: the hashed body, the hashes and the unhashed extras."""
    line: dict[str, object] = {**entry.body(), "prev_hash": entry.prev_hash, "hash": entry.hash}
    if entry.version >= 2:
        line["personal"] = {
            **entry.personal_data,
            "actor_display": entry.actor_display,
            "remote_addr": entry.remote_addr,
        }
    if entry.redacted_by is not None:
        line["redacted_by"] = entry.redacted_by
    return line


def _pages(tenant: Tenant, head: ChainHead) -> Iterator[list[AuditEntry]]:
    """Entries 1..head in pages. Each page is read in the tenant's schema: the response is streamed after
    the request's middleware has put the connection back on the public schema."""
    after = 0
    while after < head.sequence:
        with tenant_context(tenant):
            page = list(
                AuditEntry.objects.filter(sequence__gt=after, sequence__lte=head.sequence).order_by(
                    "sequence"
                )[:PAGE]
            )
        if not page:
            return
        yield page
        after = page[-1].sequence


def export_jsonl(*, tenant: Tenant, head: ChainHead) -> Iterator[bytes]:
    count = 0
    for page in _pages(tenant, head):
        lines = []
        for entry in page:
            lines.append(canonical_json(export_line(entry)))
        count += len(page)
        yield ("\n".join(lines) + "\n").encode()
    trailer = {"head": {"sequence": head.sequence, "hash": head.hash}, "entries": count}
    yield (canonical_json(trailer) + "\n").encode()


def export_csv(*, tenant: Tenant, head: ChainHead) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for page in _pages(tenant, head):
        for entry in page:
            body = entry.body()
            writer.writerow(
                [
                    entry.sequence,
                    body["at"],
                    entry.actor_kind,
                    entry.actor_id,
                    entry.actor_display,
                    entry.action,
                    entry.resource_type,
                    entry.resource_id,
                    canonical_json(json.loads(entry.changes)),
                    entry.request_id,
                    entry.remote_addr,
                    entry.prev_hash,
                    entry.hash,
                    entry.version,
                    entry.personal,
                    "" if entry.redacted_by is None else entry.redacted_by,
                ]
            )
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()
