"""The default connection, typed as django-tenants' wrapper (it has set_tenant, schema_name, …)."""

from typing import cast

from django.db import connection
from django_tenants.postgresql_backend.base import DatabaseWrapper


def tenant_connection() -> DatabaseWrapper:
    return cast(DatabaseWrapper, connection)
