"""The default connection, typed as Aurum's django-tenants wrapper (set_tenant, schema_name, …)."""

from typing import cast

from django.db import connection

from aurum.tenancy.postgresql_backend.base import DatabaseWrapper


def tenant_connection() -> DatabaseWrapper:
    return cast(DatabaseWrapper, connection)
