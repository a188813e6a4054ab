import structlog
from celery import shared_task

from aurum.tenancy.db import tenant_connection


@shared_task(name="aurum.health.current_schema", ignore_result=False)
def current_schema() -> str:
    """Diagnostic: the schema a task runs in (it must be the one it was sent from)."""
    schema = tenant_connection().schema_name
    structlog.get_logger(__name__).info("diagnostic task ran", schema=schema)
    return schema
