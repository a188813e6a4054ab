"""The run task as Celery runs it (tenant-schemas-celery switches to the schema its headers name): it reads
the tenant's row once (the one the switch loaded) by its schema, and runs the run in that tenant's schema."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from apps.scenarios.models import ScenarioRun
from apps.scenarios.services.inputs import CurveSelection, RunOptions
from apps.scenarios.services.runs import scenario_run_submit
from apps.scenarios.services.scenarios import scenario_create
from apps.scenarios.tasks import scenario_run_execute_task
from tests.support.scenarios import POLICY


def test_a_run_task_reads_its_tenant_once_and_runs_in_its_schema(
    in_acme: Any, eugp_curves: Any, django_capture_on_commit_callbacks: Any
) -> None:
    scenario = scenario_create(
        tenant=in_acme,
        name=f"task {uuid.uuid4()}",
        actor=None,
        assumptions=[POLICY],
        selection=CurveSelection(curve_keys=eugp_curves.curve_keys, base_asof=eugp_curves.asof),
    )
    run = scenario_run_submit(tenant=in_acme, scenario=scenario, options=RunOptions(seed=3), actor=None).run

    with schema_context("public"), CaptureQueriesContext(connection) as queries:
        with django_capture_on_commit_callbacks(execute=True):
            result = scenario_run_execute_task.apply(args=(str(run.pk),), headers={"_schema_name": "acme"})

    assert result.get() == ScenarioRun.Status.SUCCEEDED
    lookups = (
        '"tenants_tenant"."schema_name" = \'acme\''  # the dispatcher's reads of the plan's cap are by id
    )
    tenant_reads = [q["sql"] for q in queries.captured_queries if lookups in q["sql"]]
    assert len(tenant_reads) == 1, "\n".join(tenant_reads)
    with schema_context("acme"):
        assert ScenarioRun.objects.get(pk=run.pk).output_rows > 0
