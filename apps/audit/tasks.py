"""Thin task: beat verifies every active tenant's chain nightly (from the public schema)."""

from celery import shared_task

from apps.audit.verification_runs import audit_verify_tenants

VERIFY_ALL_TASK = "audit.verify_all"


@shared_task(name=VERIFY_ALL_TASK)
def audit_verify_all_task() -> dict[str, object]:
    """``{schema: first bad sequence or None}``."""
    return {schema: report.bad_sequence for schema, report in audit_verify_tenants().items()}
