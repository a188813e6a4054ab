"""The transactional outbox: record events with the change, relay them after commit, retry until sent.

- ``outbox_append`` writes the event row in the caller's transaction. A committed change therefore always
  has its event, and a rolled-back one never does; the write itself never touches Redis, so a request whose
  change committed never fails because Redis is down.
- After the commit the same process relays the new rows at once (``outbox_relay``), so a live stream sees
  the event within milliseconds; the events one transaction recorded are relayed together, in one relay (a
  bulk submit of 100 runs, a group commit finishing k runs), not one relay transaction per event. If that
  fails (Redis down, the process dies first) the rows stay due and the beat task ``events.outbox_relay``
  retries them every few seconds with backoff, oldest first.
- Rows are claimed with ``SELECT … FOR UPDATE SKIP LOCKED``: two relays never send one row at the same time.
  A relay that dies after sending and before marking leaves the row due, so delivery is at least once, and
  every message carries the event's id for consumers to recognise a repeat.
- Relayed rows are kept for ``AURUM_OUTBOX_RETENTION_DAYS`` (webhooks and catch-up reads build on them),
  then pruned by the same task.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from aurum.celery import app as celery_app
from aurum.events.channel import PublishError, channel_send
from aurum.events.models import OutboxEvent
from aurum.transient import TRANSIENT_ERRORS

log = structlog.get_logger(__name__)

RELAY_BATCH = 500
MAX_BACKOFF_SECONDS = 300


@dataclass(frozen=True)
class RelayResult:
    relayed: int
    failed: int


def outbox_append(
    *, schema_name: str, event_type: str, payload: dict[str, Any], membership_id: int | None = None
) -> OutboxEvent:
    """Record an event for ``schema_name``'s tenant (or one member of it) in the current transaction; relay
    it after commit, together with the other events that transaction recorded."""
    event = OutboxEvent.objects.create(
        tenant_schema=schema_name, event_type=event_type, payload=payload, membership_id=membership_id
    )
    _relay_after_commit([event.pk])
    return event


def outbox_append_many(
    *, schema_name: str, events: Sequence[tuple[str, dict[str, Any]]]
) -> list[OutboxEvent]:
    """Record several ``(event_type, payload)`` events for ``schema_name``'s tenant with one INSERT, as
    ``outbox_append`` would one by one (in order; relayed together after the commit)."""
    rows = OutboxEvent.objects.bulk_create(
        [OutboxEvent(tenant_schema=schema_name, event_type=kind, payload=payload) for kind, payload in events]
    )
    _relay_after_commit([row.pk for row in rows])
    return rows


def _relay_after_commit(ids: list[int]) -> None:
    """Relay the events ``ids`` once the current transaction commits, with the other events it recorded.

    robust: the change has committed, so nothing here may fail the request or task that made it; an error is
    logged and the rows stay due for the beat relay."""
    if not connection.in_atomic_block:  # autocommit: the rows are committed already
        transaction.on_commit(lambda: _RelayBatch.relay_ids(ids), robust=True)
        return
    batch = _RelayBatch.current()
    batch.ids.extend(ids)
    # One callback per event, so that whoever runs some of a transaction's callbacks (a test capturing them)
    # relays its events; the first to run relays the whole batch and the others find it empty.
    for _ in ids:
        transaction.on_commit(batch.relay, robust=True)


class _RelayBatch:
    """The events recorded by one transaction at one savepoint level of this thread's connection, relayed
    together after its commit.

    Django starts a new ``run_on_commit`` list for every transaction and after every savepoint rollback
    (dropping that savepoint's callbacks), so a batch belongs to the list it was made for and to the
    savepoints then open: an event recorded in a rolled-back savepoint never joins a batch that commits.
    """

    _local = threading.local()

    def __init__(self, hooks: list[Any], savepoints: tuple[str, ...]) -> None:
        self.hooks = hooks
        self.savepoints = savepoints
        self.ids: list[int] = []

    @classmethod
    def current(cls) -> _RelayBatch:
        hooks, savepoints = connection.run_on_commit, tuple(connection.savepoint_ids)
        batch: _RelayBatch | None = getattr(cls._local, "batch", None)
        if batch is None or batch.hooks is not hooks or batch.savepoints != savepoints:
            batch = cls._local.batch = cls(hooks, savepoints)
        return batch

    def relay(self) -> None:
        ids, self.ids = self.ids, []
        self.relay_ids(ids)

    @staticmethod
    def relay_ids(ids: Sequence[int]) -> None:
        for start in range(0, len(ids), RELAY_BATCH):
            outbox_relay(ids=ids[start : start + RELAY_BATCH])


def event_tasks_send(event: OutboxEvent) -> None:
    """Start the work ``AURUM_EVENT_TASKS`` names for the event's type: each task is sent in the event's
    tenant schema with ``(event_id, payload)``; PublishError when the broker cannot take it. The event is
    then retried, so such tasks must be idempotent (they may also run twice after a relay died)."""
    for name in settings.AURUM_EVENT_TASKS.get(event.event_type, ()):
        try:
            celery_app.send_task(
                name, args=(str(event.event_id), event.payload), headers={"_schema_name": event.tenant_schema}
            )
        except TRANSIENT_ERRORS as exc:
            raise PublishError(f"task {name} not sent: {type(exc).__name__}: {exc}") from exc


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(MAX_BACKOFF_SECONDS, 2 ** min(attempts, 10)))


def outbox_relay(*, ids: Sequence[int] | None = None, limit: int = RELAY_BATCH) -> RelayResult:
    """Send due events (or just ``ids``) to their tenants' streams, oldest first; back off the failures.

    After the first failure in a batch the rest of it is not tried (Redis is down for all of them); their
    order is kept for the next attempt.
    """
    now = timezone.now()
    relayed = failed = 0
    with transaction.atomic():
        due = OutboxEvent.objects.select_for_update(skip_locked=True).filter(relayed_at__isnull=True)
        due = due.filter(pk__in=ids) if ids is not None else due.filter(available_at__lte=now)
        events = list(due.order_by("id")[:limit])
        sent: list[int] = []
        error = ""
        for event in events:
            try:
                channel_send(
                    schema_name=event.tenant_schema, event=event.message(), membership_id=event.membership_id
                )
                event_tasks_send(event)
            except PublishError as exc:
                error = str(exc)[:500]
                break
            sent.append(event.pk)
        if sent:
            relayed = OutboxEvent.objects.filter(pk__in=sent).update(relayed_at=timezone.now())
        unsent = [event for event in events if event.pk not in set(sent)]
        for event in unsent:
            event.attempts += 1
            event.available_at = now + _backoff(event.attempts)
            event.last_error = error
        if unsent:
            OutboxEvent.objects.bulk_update(unsent, ["attempts", "available_at", "last_error"])
            failed = len(unsent)
            log.warning("outbox: events not relayed", count=failed, error=error)
    return RelayResult(relayed=relayed, failed=failed)


def outbox_prune(*, older_than_days: int | None = None) -> int:
    """Delete relayed events older than the retention; the number deleted."""
    days = settings.AURUM_OUTBOX_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = OutboxEvent.objects.filter(relayed_at__lt=cutoff).delete()
    return deleted


def outbox_backlog() -> int:
    """Events recorded and not yet relayed (for health and metrics)."""
    return OutboxEvent.objects.filter(relayed_at__isnull=True).count()
