"""The beat's housekeeping of scenario runs, tenant by tenant; one tenant's trouble never stops the others.

Per tenant, in order: commit runs a dead worker left staged; delete staging files no run needs; time out runs
past their timeout; re-queue runs whose worker stopped beating (the slot frees at once); send again
dispatched runs nobody started (never before a retry's time); fill free slots.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import structlog
from django.conf import settings
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.scenarios.models import ScenarioRun
from apps.scenarios.outputs import staged_output_delete, staged_output_files
from apps.scenarios.services.commit import runs_staged_exist, scenario_outputs_commit
from apps.scenarios.services.dispatch import run_send, scenario_runs_dispatch
from apps.scenarios.services.lifecycle import heartbeat_lost, run_fail, run_requeue_lost
from aurum.lakehouse.locks import LockTimeoutError
from aurum.transient import TRANSIENT_ERRORS
from tenants.models import Tenant

log = structlog.get_logger(__name__)

TIMEOUT_GRACE_SECONDS = 30
STALE_STAGING_SECONDS = 600
Status = ScenarioRun.Status


def _staging_clean(tenant: Tenant) -> int:
    """Delete staging files older than STALE_STAGING_SECONDS that no running staged run points at (left by a
    worker that died after the commit but before deleting them, or while staging)."""
    live = set(
        ScenarioRun.objects.filter(status=Status.RUNNING)
        .exclude(output_staged_uri="")
        .values_list("output_staged_uri", flat=True)
    )
    cutoff = timezone.now() - timedelta(seconds=STALE_STAGING_SECONDS)
    cleaned = 0
    for uri, modified in staged_output_files(tenant.schema_name):
        if uri not in live and modified is not None and modified < cutoff:
            try:
                staged_output_delete(uri)
            except OSError:  # this file only: the next sweep tries again
                log.warning(
                    "stale staging file not deleted", tenant=tenant.schema_name, uri=uri, exc_info=True
                )
                continue
            cleaned += 1
    return cleaned


def _time_out() -> int:
    now = timezone.now()
    timed_out = 0
    for run in ScenarioRun.objects.filter(status=Status.RUNNING, started_at__isnull=False):
        assert run.started_at is not None
        if (now - run.started_at).total_seconds() > run.timeout_minutes * 60 + TIMEOUT_GRACE_SECONDS:
            message = "no result within the run's timeout"
            if run_fail(run, Status.TIMED_OUT, message, code=ScenarioRun.ErrorCode.TIMED_OUT):
                timed_out += 1
    return timed_out


def runs_heartbeat_lost(*, stale_seconds: float) -> list[ScenarioRun]:
    """Running runs (not yet staged) whose worker has not beaten for ``stale_seconds`` (database time)."""
    return list(ScenarioRun.objects.filter(heartbeat_lost(stale_seconds)).order_by("queued_at", "id"))


def _resend_stale_dispatches(stale_seconds: float) -> list[str]:
    """Dispatched runs nobody started ``stale_seconds`` after they were due (sent, or their retry's time):
    sent again. A run waiting for its retry is never sent before its time."""
    cutoff = timezone.now() - timedelta(seconds=stale_seconds)
    stale = [
        str(pk)
        for pk in ScenarioRun.objects.filter(status=Status.QUEUED, dispatched_at__isnull=False)
        .annotate(due=Coalesce("retry_at", "dispatched_at"))
        .filter(due__lt=cutoff)
        .values_list("pk", flat=True)
    ]
    if stale:
        ScenarioRun.objects.filter(pk__in=stale, status=Status.QUEUED).update(
            dispatched_at=timezone.now(), retry_at=None
        )
        run_send(stale)
    return stale


def scenario_runs_sweep(*, tenant: Tenant, lock_timeout: float | None = None) -> dict[str, int]:
    """Housekeeping for one tenant (see the module). ``lock_timeout`` bounds each lock wait: LockTimeoutError
    (the caller skips the tenant this round) rather than a sweep stuck behind another tenant's holder."""
    committed = 0
    if runs_staged_exist():
        try:
            committed = len(scenario_outputs_commit(tenant=tenant, lock_timeout=lock_timeout))
        except LockTimeoutError:
            raise  # the caller skips the tenant this round
        except TRANSIENT_ERRORS:  # e.g. an Iceberg commit that lost a race: the rest of the round still runs
            log.warning(
                "staged scenario outputs not committed by the sweep", tenant=tenant.schema_name, exc_info=True
            )
    cleaned = _staging_clean(tenant)
    timed_out = _time_out()
    stale_seconds = settings.AURUM_SCENARIO_HEARTBEAT_STALE_SECONDS
    requeued = sum(
        run_requeue_lost(run, stale_seconds=stale_seconds)
        for run in runs_heartbeat_lost(stale_seconds=stale_seconds)
    )
    resent = _resend_stale_dispatches(settings.AURUM_SCENARIO_STALE_DISPATCH_SECONDS)
    dispatched = scenario_runs_dispatch(tenant=tenant, lock_timeout=lock_timeout)
    return {
        "committed": committed,
        "staging_cleaned": cleaned,
        "timed_out": timed_out,
        "requeued": requeued,
        "resent": len(resent),
        "dispatched": len(dispatched),
    }


@dataclass
class SweepReport:
    """What the sweep did per tenant, and the tenants it skipped (a lock not granted in time) or that
    failed (logged with the tenant; the others were swept all the same)."""

    swept: dict[str, dict[str, int]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"swept": self.swept, "skipped": self.skipped, "failed": self.failed}


def scenario_runs_sweep_tenants() -> SweepReport:
    """Sweep every active tenant (from the public schema), each in its own schema and isolated from the
    others: a held lock skips that tenant this round, any other error is logged with the tenant and the
    sweep goes on."""
    report = SweepReport()
    lock_timeout = settings.AURUM_SCENARIO_SWEEP_LOCK_TIMEOUT_SECONDS
    for tenant in (
        Tenant.objects.select_related("plan").filter(status=Tenant.Status.ACTIVE).order_by("schema_name")
    ):
        schema = tenant.schema_name
        try:
            with tenant_context(tenant):
                report.swept[schema] = scenario_runs_sweep(tenant=tenant, lock_timeout=lock_timeout)
        except LockTimeoutError:
            log.warning("scenario sweep skipped a tenant: a lock was not granted in time", tenant=schema)
            report.skipped.append(schema)
        except Exception:  # isolation: this tenant's failure is logged, the next tenant is swept
            log.exception("scenario sweep failed for a tenant", tenant=schema)
            report.failed.append(schema)
    return report
