from tenants.models import Domain, Tenant


def tenant_datasets(*, tenant: Tenant) -> frozenset[str]:
    """Every dataset the tenant may read: its plan's plus its own entitlements."""
    granted = set(tenant.plan.datasets)
    granted.update(tenant.entitlements.values_list("dataset", flat=True))
    return frozenset(granted)


def tenant_for_host(*, hostname: str) -> Tenant | None:
    domain = Domain.objects.select_related("tenant", "tenant__plan").filter(domain=hostname).first()
    return domain.tenant if domain else None


def tenant_named(*, named: str) -> Tenant | None:
    """The tenant a request header names by schema name or id (None when there is none)."""
    query = Tenant.objects.select_related("plan")
    if named.isdigit():
        return query.filter(pk=int(named)).first()
    return query.filter(schema_name=named[:63]).first()
