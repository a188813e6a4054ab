from celery import shared_task
from django.db import connection


@shared_task(name="aurum.health.current_schema")
def current_schema() -> str:
    """Diagnostic: the schema a task runs in (it must be the one it was sent from)."""
    return str(connection.schema_name)
