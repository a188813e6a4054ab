"""Tenant provisioning and lifecycle. Views, admin actions and commands all call these."""

import functools
import re
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.db.migrations.loader import MigrationLoader
from django.db.models import F
from django.utils import timezone
from django_tenants.clone import CloneSchema
from django_tenants.utils import schema_exists

from aurum.errors import ConflictError, InvalidInputError, Issue
from aurum.lakehouse.catalog import namespace_ensure
from aurum.lakehouse.locks import advisory_xact_lock
from aurum.tenancy.db import tenant_connection
from tenants.models import PLAN_LIMITS, Domain, Entitlement, Plan, PlanRouteLimit, Tenant
from tenants.selectors import tenant_entitlements_forget
from tenants.spares import SPARE_PREFIX, spare_take
from tenants.tasks import spares_fill_task

SCHEMA_RE = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
RESERVED_SCHEMAS = {"public", "information_schema", settings.TENANT_BASE_SCHEMA, "market", "pg_catalog"}


def _schema_name_validate(schema_name: str) -> None:
    if not SCHEMA_RE.match(schema_name) or schema_name.startswith("pg_"):
        raise InvalidInputError.field(
            "schema_name", "Use 2–41 lowercase letters, digits or underscores, starting with a letter."
        )
    if schema_name in RESERVED_SCHEMAS or schema_name.startswith(SPARE_PREFIX):
        raise InvalidInputError.field("schema_name", f"'{schema_name}' is reserved.", code="reserved")


def _schema_in_database(schema_name: str) -> bool:
    """Any schema of that name, whoever made it (compared ignoring case, as django-tenants' clone does)."""
    with tenant_connection().cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE lower(nspname) = lower(%s)", [schema_name])
        return cursor.fetchone() is not None


def _taken(field: str, message: str) -> ConflictError:
    return ConflictError(message, issues=[Issue(field, message, "taken")])


def tenant_create_check(*, name: str, schema_name: str, domain: str | None = None) -> str:
    """Refuse names that are invalid (InvalidInputError) or taken (ConflictError): by a tenant, by any schema
    in the database (a tenant's schema is never one that existed before), or a domain. Returns the hostname.
    """
    _schema_name_validate(schema_name)
    if Tenant.objects.filter(schema_name=schema_name).exists():
        raise _taken("schema_name", f"A tenant with schema '{schema_name}' already exists.")
    if _schema_in_database(schema_name):
        raise _taken(
            "schema_name",
            f"A schema named '{schema_name}' already exists in the database; choose another name.",
        )
    if Tenant.objects.filter(name__iexact=name).exists():
        raise _taken("name", f"A tenant named '{name}' already exists.")
    hostname = domain or f"{schema_name.replace('_', '-')}.{settings.AURUM_BASE_DOMAIN}"
    if Domain.objects.filter(domain=hostname).exists():
        raise _taken("domain", f"The domain '{hostname}' is taken.")
    return hostname


def tenant_template_ensure(*, verbosity: int = 0) -> None:
    """Create and migrate the template schema new tenants are cloned from."""
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

    Either everything exists afterwards or nothing does, and nothing that existed before is touched: a name
    taken by a tenant or by any schema is refused up front (see ``tenant_create_check``).
    """
    tenant = Tenant(name=name, schema_name=schema_name, plan=plan)
    took_spare = False
    try:
        with transaction.atomic():
            # One provisioning per schema name at a time, so the checks see any concurrent one's commit.
            advisory_xact_lock(f"tenant-create:{schema_name}")
            hostname = tenant_create_check(name=name, schema_name=schema_name, domain=domain)
            tenant.save()
            Domain.objects.create(domain=hostname, tenant=tenant, is_primary=True)
            Entitlement.objects.bulk_create(
                [Entitlement(tenant=tenant, dataset=d) for d in sorted(set(datasets))]
            )
            # Postgres DDL is transactional and the rename or clone runs on this connection: a failure at any
            # step rolls back the schema this call made with the rows above (a spare is a spare again), and
            # nothing else is ever dropped.
            took_spare = spare_take(schema_name)
            if not took_spare:
                _schema_clone(tenant)
            # Idempotent, so a namespace left behind by a rolled-back attempt is simply reused later.
            namespace_ensure(tenant.lakehouse_namespace)
    finally:
        tenant_connection().set_schema_to_public()
    if took_spare and settings.AURUM_TENANT_SPARE_SCHEMAS:
        # Once committed (a caller's outer transaction may still roll the spare back).
        transaction.on_commit(spares_fill_task.delay)
    return tenant


@functools.cache
def _tenant_leaf_migrations() -> frozenset[tuple[str, str]]:
    """The latest migration of every app, as ``migrate`` would apply them (once per process)."""
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes())


def _schema_clone(tenant: Tenant) -> None:
    """Clone the template into the tenant's schema. The clone copies the template's migration records; the
    ``migrate_schemas --fake`` django-tenants runs after it is needed only when they lack a migration this
    code has, and then migrations are applied for real (a fake one would record tables that do not exist).
    """
    template = settings.TENANT_BASE_SCHEMA
    if not settings.TENANT_CREATION_FAKES_MIGRATIONS or not schema_exists(template):
        tenant.create_schema(check_if_exists=False, verbosity=0)  # replays every migration
        return
    CloneSchema().clone_schema(template, tenant.schema_name, tenant.clone_mode)
    with tenant_connection().cursor() as cursor:
        cursor.execute(f'SELECT app, name FROM "{tenant.schema_name}".django_migrations')
        applied = set(cursor.fetchall())
    if not _tenant_leaf_migrations() <= applied:
        call_command(
            "migrate_schemas", tenant=True, schema_name=tenant.schema_name, interactive=False, verbosity=0
        )


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
    tenant_entitlements_forget(tenant)
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


@transaction.atomic
def plan_route_limits_changed(*, plan: Plan) -> Plan:
    """Tell every web process that the plan's per-route limits changed (they re-read them once)."""
    Plan.objects.filter(pk=plan.pk).update(route_limits_version=F("route_limits_version") + 1)
    plan.refresh_from_db(fields=["route_limits_version"])
    return plan


@transaction.atomic
def plan_route_limit_set(*, plan: Plan, route: str, requests_per_second: int, burst: int) -> PlanRouteLimit:
    """Create or change the plan's own bucket for ``route`` (a URL name or a path pattern)."""
    limit = PlanRouteLimit(plan=plan, route=route, requests_per_second=requests_per_second, burst=burst)
    try:
        limit.full_clean(exclude=["plan"], validate_unique=False)
    except ValidationError as invalid:
        raise InvalidInputError.of(
            *(
                Issue(field, message, "min_value" if field != "route" else "invalid")
                for field, messages in invalid.message_dict.items()
                for message in messages
            )
        ) from invalid
    saved, _ = PlanRouteLimit.objects.update_or_create(
        plan=plan, route=route, defaults={"requests_per_second": requests_per_second, "burst": burst}
    )
    plan_route_limits_changed(plan=plan)
    return saved
