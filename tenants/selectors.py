from collections.abc import Iterable

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import OuterRef
from django_tenants.utils import get_public_schema_name

from aurum.orm import CompiledLookup, prepared_cursor
from tenants.models import Domain, Entitlement, Tenant

# Read on every licensed API request: plain SQL, not a queryset compiled each time (decision 0054).
_ENTITLED_SQL = (
    f'SELECT dataset FROM "{get_public_schema_name()}"."{Entitlement._meta.db_table}" WHERE tenant_id = %s'
)


# Where a lookup that read the tenant in the same statement notes its entitlements on the instance.
_READ_WITH = "_aurum_entitlements_read_with"


def entitlements_column(tenant_id_field: str) -> ArraySubquery:
    """The entitled datasets of the tenant whose id is ``tenant_id_field`` of another query's rows, as one
    array column of that query: a lookup that reads the tenant anyway (the bearer token's, on every API
    request) reads its entitlements in the same statement, one round trip fewer (issue 14)."""
    return ArraySubquery(Entitlement.objects.filter(tenant_id=OuterRef(tenant_id_field)).values("dataset"))


def tenant_entitlements_read_with(tenant: Tenant, datasets: Iterable[str]) -> None:
    """Note on ``tenant``, an instance just read for one request, the entitlements read in the same
    statement (``entitlements_column``): ``tenant_datasets`` then answers without a query of its own."""
    setattr(tenant, _READ_WITH, frozenset(datasets))


def tenant_datasets(*, tenant: Tenant) -> frozenset[str]:
    """Every dataset the tenant may read: its plan's plus its own entitlements (those read with the tenant,
    when they were)."""
    granted = set(tenant.plan.datasets)
    read_with: frozenset[str] | None = getattr(tenant, _READ_WITH, None)
    if read_with is not None:
        return frozenset(granted | read_with)
    with prepared_cursor(connection) as cursor:  # every API request runs it (decision 0058)
        cursor.execute(_ENTITLED_SQL, [tenant.pk])
        granted.update(row[0] for row in cursor.fetchall())
    return frozenset(granted)


def tenant_entitlements_forget(tenant: Tenant) -> None:
    """The entitlements noted on ``tenant`` are stale (one was granted through it): read them again."""
    tenant.__dict__.pop(_READ_WITH, None)


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
