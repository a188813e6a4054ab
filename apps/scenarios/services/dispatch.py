"""The dispatcher: each tenant runs at most its plan's ``concurrent_scenario_runs`` at once; and the one way a
run is handed to a worker.

Services never import the tasks module (tasks import services): a run is sent by the task's registered name
through the Celery app (``send_task``, which tenant-schemas-celery gives the current schema). A send that
fails after the run's transaction committed (the broker down) is logged and left to the beat sweep, which
sends dispatched runs nobody picked up again; the caller's answer does not depend on the broker.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Q, QuerySet
from django.utils import timezone

from apps.scenarios.models import ScenarioRun
from aurum.celery import app as celery_app
from aurum.lakehouse.locks import advisory_xact_lock
from aurum.transient import TRANSIENT_ERRORS
from tenants.models import Tenant

log = structlog.get_logger(__name__)

RUN_TASK = "scenarios.run_execute"
SWEEP_TASK = "scenarios.sweep"


def run_send(run_ids: Sequence[str], *, countdown: float | None = None) -> int:
    """Send one run task per id to ``AURUM_SCENARIO_RUN_QUEUE``; return how many were sent.

    A broker error is logged, not raised: the runs stay dispatched and the sweep sends them again once
    ``AURUM_SCENARIO_STALE_DISPATCH_SECONDS`` have passed.
    """
    sent = 0
    for run_id in run_ids:
        try:
            celery_app.send_task(
                RUN_TASK, args=(run_id,), countdown=countdown, queue=settings.AURUM_SCENARIO_RUN_QUEUE
            )
        except TRANSIENT_ERRORS:
            log.warning("scenario run not sent; the sweep will send it again", run_id=run_id, exc_info=True)
            continue
        sent += 1
    return sent


def runs_busy() -> int:
    """The tenant's runs holding a slot: running, or handed to a worker (also while waiting for a retry)."""
    return ScenarioRun.objects.filter(
        Q(status=ScenarioRun.Status.RUNNING)
        | Q(status=ScenarioRun.Status.QUEUED, dispatched_at__isnull=False)
    ).count()


def runs_waiting() -> QuerySet[ScenarioRun]:
    """The tenant's queued runs not yet handed to a worker (a run waiting for a retry keeps its slot)."""
    return ScenarioRun.objects.filter(status=ScenarioRun.Status.QUEUED, dispatched_at__isnull=True)


def scenario_runs_dispatch(*, tenant: Tenant, lock_timeout: float | None = None) -> list[str]:
    """Hand queued runs to workers, highest priority then oldest first, while the tenant has fewer than its
    plan's ``concurrent_scenario_runs`` runs dispatched or running. The excess stays queued; this is called
    again on submit, at every run end and by the beat sweep, so it starts when a slot frees.

    ``lock_timeout`` bounds the wait for another dispatcher of the tenant (LockTimeoutError after it).

    Nothing waiting, nothing done: one statement and no lock (every run end calls this; the last ones of a
    bulk find the queue empty). A run queued after that look is dispatched by its own submitter, which calls
    this once its transaction has committed.
    """
    cap, waiting = (
        Tenant.objects.filter(pk=tenant.pk)
        .annotate(waiting=Exists(runs_waiting()))
        .values_list("plan__concurrent_scenario_runs", "waiting")
        .get()
    )
    if not waiting:
        return []
    with transaction.atomic():
        # one dispatcher per tenant at a time: the count stays true
        advisory_xact_lock(f"scenario-dispatch:{tenant.schema_name}", timeout_seconds=lock_timeout)
        free = cap - runs_busy()
        if free <= 0:
            return []
        picked = list(
            runs_waiting()
            .select_for_update(skip_locked=True)
            .order_by("priority_rank", "queued_at", "id")
            .values_list("pk", flat=True)[:free]
        )
        if not picked:
            return []
        ScenarioRun.objects.filter(pk__in=picked).update(dispatched_at=timezone.now())
        run_ids = [str(pk) for pk in picked]
        transaction.on_commit(lambda: run_send(run_ids))
    return run_ids
