"""Thin task: delete the offboarded tenants whose grace period has passed (beat, nightly)."""

from celery import shared_task

from apps.offboarding.services import tenant_offboard_due


@shared_task(name="offboarding.delete_due", ignore_result=True)
def tenant_offboard_due_task() -> list[str]:
    return [report.schema_name for report in tenant_offboard_due()]
