"""Freshness SLA events (decision 0035): ``dataset_freshness_evaluate`` runs every minute (beat) and emits
``dataset.late`` once when a publication's SLA passes without its vintage and ``dataset.recovered`` once when
the vintage lands afterwards, to every tenant licensed for the dataset (and the operators).

Exactly once with several beat or worker processes: the late event is emitted by whoever inserts the
(dataset, publication day) state row (a unique constraint; the loser's insert rolls back its savepoint), the
recovered event by whoever moves the row from late to recovered (a conditional update: one row changes once).
The event is written to the outbox in the same transaction as the row.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from django.db import IntegrityError, transaction

from apps.datasets.models import DatasetDayState
from apps.datasets.registry import CONTRACTS
from apps.datasets.selectors import landings_read, publication_due, state_key
from aurum.datasets.contracts import DatasetContract, Publication
from aurum.events.fanout import dataset_event_publish_on_commit

log = structlog.get_logger(__name__)

DATASET_LATE = "dataset.late"
DATASET_RECOVERED = "dataset.recovered"
# Late rows older than this are not watched for recovery any more (a vintage that never comes).
RECOVERY_WATCH_DAYS = 31
# A real-time interval still missing after this long is a backfill's (decision 0042): reading every
# interval fetch of a month each minute would cost more than the watch is worth.
INTRADAY_RECOVERY_WATCH = timedelta(days=2)


def dataset_event_payload(
    contract: DatasetContract, publication: Publication, state: DatasetDayState
) -> dict[str, Any]:
    return {
        "dataset": contract.id,
        "title": contract.title,
        "licence": contract.licence,
        "status": state.status,
        "publication_day": publication.day.isoformat(),
        "expected_at": publication.expected_at.isoformat(),
        "due_at": publication.due_at.isoformat(),
        "sla_minutes": contract.sla_minutes,
        "period": {"start": publication.period.start.isoformat(), "end": publication.period.end.isoformat()},
        "late_at": state.late_at.isoformat(),
        "recovered_at": state.recovered_at.isoformat() if state.recovered_at else None,
    }


def dataset_freshness_evaluate(*, now: datetime) -> dict[str, int]:
    """Open late states for publications past their SLA without a vintage and close those whose vintage
    landed; ``{"late": n, "recovered": m}`` events emitted by this call."""
    contracts = list(CONTRACTS.values())
    due = {c.id: publication_due(c, now) for c in contracts}
    intraday_since = now - INTRADAY_RECOVERY_WATCH
    watched = [
        s
        for s in DatasetDayState.objects.filter(
            status=DatasetDayState.Status.LATE,
            publication_day__gte=now.date() - timedelta(days=RECOVERY_WATCH_DAYS),
            dataset__in=CONTRACTS,
        )
        if s.period_start is None or s.period_start >= intraday_since
    ]
    since = min(
        [p.period.first_day for p in due.values() if p is not None]
        + [
            CONTRACTS[s.dataset].publication_of(s.publication_day, s.period_start).period.first_day
            for s in watched
        ],
        default=now.date(),
    )
    landings = landings_read(contracts=contracts, since=since, intraday_since=intraday_since)
    # Days already late need no insert attempt (the unique constraint still decides a race).
    known = set(
        DatasetDayState.objects.filter(
            dataset__in=[c.id for c in contracts],
            publication_day__in={p.day for p in due.values() if p is not None},
        ).values_list("dataset", "publication_day", "period_start")
    )
    late = 0
    for contract in contracts:
        publication = due[contract.id]
        if publication is None or state_key(contract, publication) in known:
            continue
        if not landings.landed(contract, publication):
            late += _late_open(contract, publication, now)
    recovered = 0
    for state in watched:
        contract = CONTRACTS[state.dataset]
        publication = contract.publication_of(state.publication_day, state.period_start)
        if landings.landed(contract, publication):
            recovered += _recover(contract, publication, state.pk, now)
    if late or recovered:
        log.info("dataset freshness evaluated", late=late, recovered=recovered)
    return {"late": late, "recovered": recovered}


def _late_open(contract: DatasetContract, publication: Publication, now: datetime) -> int:
    try:
        with transaction.atomic():
            state = DatasetDayState.objects.create(
                dataset=contract.id,
                publication_day=publication.day,
                period_start=publication.period.start if contract.intraday else None,
                expected_at=publication.expected_at,
                due_at=publication.due_at,
                late_at=now,
            )
            dataset_event_publish_on_commit(
                dataset=contract.licence,
                event_type=DATASET_LATE,
                payload=dataset_event_payload(contract, publication, state),
            )
    except IntegrityError:
        return 0  # already late (this process earlier, or another one now)
    return 1


def _recover(contract: DatasetContract, publication: Publication, state_id: int, now: datetime) -> int:
    with transaction.atomic():
        changed = DatasetDayState.objects.filter(pk=state_id, status=DatasetDayState.Status.LATE).update(
            status=DatasetDayState.Status.RECOVERED, recovered_at=now
        )
        if not changed:
            return 0
        state = DatasetDayState.objects.get(pk=state_id)
        dataset_event_publish_on_commit(
            dataset=contract.licence,
            event_type=DATASET_RECOVERED,
            payload=dataset_event_payload(contract, publication, state),
        )
    return 1
