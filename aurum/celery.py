"""The Celery app.

Tasks carry the tenant schema they were sent from (tenant-schemas-celery) and run inside it, and the request
id (and tenant) of the request that sent them: every log line of the task carries that request's id. With
tracing on, the trace context travels in the headers too (OpenTelemetry's Celery instrumentation).

Imports inside the signal handlers: this module is imported with the ``aurum`` package, before Django's setup.
"""

import os
from typing import Any

from celery.signals import (
    before_task_publish,
    setup_logging,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
)
from tenant_schemas_celery.app import CeleryApp

# Never development settings by default: production refuses to start without its secrets.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.production")


class AurumCelery(CeleryApp):  # type: ignore[misc]
    """tenant-schemas-celery's app, whose ``send_task`` (a task sent by name) follows ``task_ignore_result``
    as ``apply_async`` does. Celery's own would subscribe the sender to the task's result channel in Redis
    on every send: with Redis down, that subscription retried for ~20 s and then raised RuntimeError ("The
    Celery application must be restarted"), a 500 after a hang (decision 0043). Aurum never waits on a
    result outside tests."""

    def send_task(self, name: str, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
        options.setdefault("ignore_result", self.conf.task_ignore_result)
        return super().send_task(name, args=args, kwargs=kwargs, **options)


app = AurumCelery("aurum")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["aurum.health"])


@setup_logging.connect
def _use_django_logging(**_: Any) -> None:
    """Keep Django's LOGGING (structured JSON) in the worker instead of Celery's own format."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


# Message headers that carry the sender's log context into the task.
REQUEST_ID_HEADER = "aurum_request_id"
TENANT_HEADER = "aurum_tenant"


@before_task_publish.connect
def _carry_request_context(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """Put the current request id and tenant (of the request, or of the task sending this one) into the
    message's headers."""
    import structlog

    if headers is None:
        return
    bound = structlog.contextvars.get_contextvars()
    for header, key in ((REQUEST_ID_HEADER, "request_id"), (TENANT_HEADER, "tenant")):
        if bound.get(key) is not None and header not in headers:
            headers[header] = str(bound[key])


@task_prerun.connect
def _bind_task_context(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    from tenant_schemas_celery.app import get_schema_name_from_task

    from aurum.observability.context import context_bind, context_clear

    context_clear()
    schema = get_schema_name_from_task(task, {}) if task is not None else None
    request = getattr(task, "request", None)
    context_bind(
        task_id=task_id,
        task=getattr(task, "name", None),
        tenant=schema or getattr(request, TENANT_HEADER, None) or "public",
        request_id=getattr(request, REQUEST_ID_HEADER, None),
    )


@task_postrun.connect
def _clear_task_context(**_: Any) -> None:
    from aurum.observability.context import context_clear

    context_clear()


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(task: Any = None, **_: Any) -> None:
    """Around each task as Django does around a request: drop this thread's database connections that failed
    or outlived ``CONN_MAX_AGE``; keep the others (``CELERY_DB_REUSE_MAX`` stops Celery closing them all).
    Not around a task run in its caller's process (``apply``, eager): its connection is the caller's, maybe in
    the middle of a transaction; Celery's own fixup leaves those alone too."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


@worker_init.connect
def _worker_observability(**_: Any) -> None:
    """Tracing (``AURUM_OTEL_EXPORTER``) and the worker's metrics endpoint (``AURUM_WORKER_METRICS_PORT``),
    in the worker's main process: forked pool children inherit both."""
    from django.conf import settings

    from aurum.observability.metrics import worker_metrics_serve
    from aurum.observability.tracing import tracing_configure

    tracing_configure("worker")
    if settings.AURUM_WORKER_METRICS_PORT:
        worker_metrics_serve(settings.AURUM_WORKER_METRICS_PORT)


@worker_init.connect
def _worker_warm_up(sender: Any = None, **_: Any) -> None:
    """Import what the first task would (aurum/warmup.py) in the main process, before the pool starts and
    before the heartbeat (readiness) beats: prefork children inherit the imports. Connections must not be
    shared with children, so the prefork and solo pools open them in ``worker_process_init``; a thread pool
    runs tasks in this process, so it opens them here."""
    from celery import concurrency

    from aurum.lakehouse.memory_pool import arrow_memory_pool_configure, malloc_retain_configure
    from aurum.warmup import heap_freeze, warm_up

    arrow_memory_pool_configure()  # before the pool forks: children inherit it
    malloc_retain_configure()  # the same
    pool = concurrency.get_implementation(getattr(sender, "pool_cls", None) or "prefork")
    warm_up("worker", connections=pool.__module__ == "celery.concurrency.thread")
    # 9 % of a thread worker's CPU in 100 scenario runs went to collections walking the imports (decision
    # 0050); frozen, forked children also share those pages instead of touching them.
    heap_freeze()


@worker_process_init.connect
def _worker_process_warm_up(**_: Any) -> None:
    """A pool process (prefork child, or the solo pool's process): the imports (nothing left to import in a
    forked child; all of them in a spawned one), then the catalog, tables and DuckDB; then it marks itself
    warm, and the worker beats (is ready) once every pool process has (aurum/health/worker.py)."""
    from aurum.health.worker import pool_process_warm_mark
    from aurum.warmup import warm_up

    try:
        warm_up("worker")
    finally:
        pool_process_warm_mark()


@worker_process_shutdown.connect
def _worker_process_metrics_dead(pid: int | None = None, **_: Any) -> None:
    import os

    from aurum.observability.metrics import process_dead

    process_dead(pid or os.getpid())


def _install_worker_steps() -> None:
    from aurum.health.worker import HeartbeatStep

    app.steps["worker"].add(HeartbeatStep)


_install_worker_steps()
