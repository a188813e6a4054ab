"""Tenant provisioning and lifecycle. Views, admin actions and commands all call these."""

import re
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_exists

from aurum.errors import InvalidInputError, Issue
from aurum.lakehouse.catalog import namespace_ensure
from aurum.tenancy.db import tenant_connection
from tenants.models import PLAN_LIMITS, Domain, Entitlement, Plan, Tenant

SCHEMA_RE = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
RESERVED_SCHEMAS = {"public", "information_schema", settings.TENANT_BASE_SCHEMA, "market", "pg_catalog"}


def _validate_schema_name(schema_name: str) -> None:
    if not SCHEMA_RE.match(schema_name) or schema_name.startswith("pg_"):
        raise ValidationError(
            {"schema_name": "Use 2–41 lowercase letters, digits or underscores, starting with a letter."}
        )
    if schema_name in RESERVED_SCHEMAS:
        raise ValidationError({"schema_name": f"'{schema_name}' is reserved."})


def tenant_template_ensure(*, verbosity: int = 0) -> None:
    """Create and migrate the template schema new tenants are cloned from."""
    from django.core.management import call_command

    template = settings.TENANT_BASE_SCHEMA
    if not schema_exists(template):
        with tenant_connection().cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{template}"')
    call_command("migrate_schemas", schema_name=template, interactive=False, verbosity=verbosity)
    tenant_connection().set_schema_to_public()


def tenant_create(
    *,
    name: str,
    schema_name: str,
    plan: Plan,
    domain: str | None = None,
    datasets: Iterable[str] = (),
) -> Tenant:
    """Provision a tenant: row, schema (cloned from the template), primary domain, lakehouse namespace.

    Either everything exists afterwards or nothing does.
    """
    _validate_schema_name(schema_name)
    if Tenant.objects.filter(schema_name=schema_name).exists():
        raise ValidationError({"schema_name": f"A tenant with schema '{schema_name}' already exists."})
    if Tenant.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": f"A tenant named '{name}' already exists."})
    hostname = domain or f"{schema_name.replace('_', '-')}.{settings.AURUM_BASE_DOMAIN}"
    if Domain.objects.filter(domain=hostname).exists():
        raise ValidationError({"domain": f"The domain '{hostname}' is taken."})

    tenant = Tenant(name=name, schema_name=schema_name, plan=plan)
    try:
        with transaction.atomic():
            tenant.save()
            Domain.objects.create(domain=hostname, tenant=tenant, is_primary=True)
            Entitlement.objects.bulk_create(
                [Entitlement(tenant=tenant, dataset=d) for d in sorted(set(datasets))]
            )
            # Cloning runs on the same connection, so it commits or rolls back with the rows above.
            tenant.create_schema(check_if_exists=False, verbosity=0)
            # Idempotent, so a namespace left behind by a rolled-back attempt is simply reused later.
            namespace_ensure(tenant.lakehouse_namespace)
    except Exception:
        tenant_connection().set_schema_to_public()
        _schema_drop_if_exists(schema_name)
        raise
    return tenant


def _schema_drop_if_exists(schema_name: str) -> None:
    with tenant_connection().cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE')


@transaction.atomic
def tenant_suspend(*, tenant: Tenant) -> Tenant:
    """Suspend a tenant: its requests answer 403; its data is untouched."""
    tenant.status = Tenant.Status.SUSPENDED
    tenant.suspended_at = timezone.now()
    tenant.save(update_fields=["status", "suspended_at"])
    return tenant


@transaction.atomic
def tenant_resume(*, tenant: Tenant) -> Tenant:
    tenant.status = Tenant.Status.ACTIVE
    tenant.suspended_at = None
    tenant.save(update_fields=["status", "suspended_at"])
    return tenant


def entitlement_grant(*, tenant: Tenant, dataset: str) -> Entitlement:
    entitlement, _ = Entitlement.objects.get_or_create(tenant=tenant, dataset=dataset)
    return entitlement


def plan_ensure(*, code: str, name: str, datasets: Iterable[str] = (), **limits: int) -> Plan:
    """Create or update the plan ``code``. Limits (``Plan``'s PLAN_LIMITS) must be at least 1, else
    InvalidInputError naming each offending field; nothing is saved then."""
    unknown = sorted(set(limits) - set(PLAN_LIMITS))
    if unknown:
        raise InvalidInputError.of(*(Issue(field, "Not a plan limit.", "unknown") for field in unknown))
    fields = {"name": name, "datasets": sorted(set(datasets)), **limits}
    try:
        # code is checked by update_or_create's lookup; its uniqueness is not an error here.
        Plan(code=code, **fields).full_clean(exclude=["code"])
    except ValidationError as invalid:
        raise InvalidInputError.of(
            *(
                Issue(field, message, "min_value" if field in PLAN_LIMITS else "invalid")
                for field, messages in invalid.message_dict.items()
                for message in messages
            )
        ) from invalid
    plan, _ = Plan.objects.update_or_create(code=code, defaults=fields)
    return plan
