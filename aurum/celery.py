"""The Celery app.

Tasks carry the tenant schema they were sent from (tenant-schemas-celery) and run inside it.
"""

import os
from typing import Any

from celery.signals import setup_logging, task_postrun, task_prerun
from tenant_schemas_celery.app import CeleryApp

# Never development settings by default: production refuses to start without its secrets.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aurum.settings.production")

app = CeleryApp("aurum")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["aurum.health"])


@setup_logging.connect
def _use_django_logging(**_: Any) -> None:
    """Keep Django's LOGGING (structured JSON) in the worker instead of Celery's own format."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@task_prerun.connect
def _bind_task_context(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    from tenant_schemas_celery.app import get_schema_name_from_task

    from aurum.observability.context import context_bind, context_clear

    context_clear()
    schema = get_schema_name_from_task(task, {}) if task is not None else None
    context_bind(task_id=task_id, task=getattr(task, "name", None), tenant=schema or "public")


@task_postrun.connect
def _clear_task_context(**_: Any) -> None:
    from aurum.observability.context import context_clear

    context_clear()


def _install_worker_steps() -> None:
    from aurum.health.worker import HeartbeatStep

    app.steps["worker"].add(HeartbeatStep)


_install_worker_steps()
