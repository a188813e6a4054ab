from django.db import connection
from django_tenants.utils import get_public_schema_name

from aurum.orm import CompiledLookup, prepared_cursor
from tenants.models import Domain, Entitlement, Tenant

# Read on every licensed API request: plain SQL, not a queryset compiled each time (decision 0054).
_ENTITLED_SQL = (
    f'SELECT dataset FROM "{get_public_schema_name()}"."{Entitlement._meta.db_table}" WHERE tenant_id = %s'
)


def tenant_datasets(*, tenant: Tenant) -> frozenset[str]:
    """Every dataset the tenant may read: its plan's plus its own entitlements."""
    granted = set(tenant.plan.datasets)
    with prepared_cursor(connection) as cursor:  # every API request runs it (decision 0058)
        cursor.execute(_ENTITLED_SQL, [tenant.pk])
        granted.update(row[0] for row in cursor.fetchall())
    return frozenset(granted)


# Every request on a tenant's host looks its domain up: the SQL is compiled once per thread and prepared on
# the server (aurum/orm.py, decisions 0054 and 0058). Domains, tenants and plans live in public only.
_DOMAIN_BY_NAME: CompiledLookup[Domain] = CompiledLookup(
    lambda hostname: (
        Domain.objects.select_related("tenant", "tenant__plan").filter(domain=hostname).order_by("pk")[:1]
    ),
    "\x00domain-name",
    shared_tables_only=True,
)


def tenant_for_host(*, hostname: str) -> Tenant | None:
    domain = _DOMAIN_BY_NAME.first(hostname)
    return domain.tenant if domain else None


def tenant_named(*, named: str) -> Tenant | None:
    """The tenant a request header names by schema name or id (None when there is none)."""
    query = Tenant.objects.select_related("plan")
    if named.isdigit():
        return query.filter(pk=int(named)).first()
    return query.filter(schema_name=named[:63]).first()
