"""A task runs, in a real worker, in the tenant schema it was sent from."""

import pytest
from django_tenants.utils import schema_context

from aurum.health.tasks import current_schema
from aurum.tenancy.db import tenant_connection

pytestmark = pytest.mark.live


def test_task_runs_in_the_schema_it_was_sent_from(world, celery_worker):
    with schema_context("acme"):
        acme = current_schema.delay()
    with schema_context("globex"):
        globex = current_schema.delay()
    tenant_connection().set_schema_to_public()
    public = current_schema.delay()

    assert acme.get(timeout=30) == "acme"
    assert globex.get(timeout=30) == "globex"
    assert public.get(timeout=30) == "public"


def test_tasks_are_acknowledged_late():
    from aurum.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
