"""Public-schema tenancy: who the tenants are, how they are reached, and what their plan allows."""

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin

# A limit of 0 would stop the tenant altogether (or, in the rate bucket, divide by zero and leave it
# unlimited): every limit is at least 1, checked by the field (admin, full_clean, plan_ensure) and in SQL.
AT_LEAST_ONE = [MinValueValidator(1, "Must be at least 1.")]
# Monthly quotas (docs/decisions/0026-usage-and-quotas.md): ``rows_per_month`` is the rows-served quota; the
# others are empty (NULL) for unlimited. A set quota is at least 1 (NULL passes the SQL check).
PLAN_QUOTAS = ("api_requests_per_month", "scenario_runs_per_month", "export_rows_per_month")
PLAN_LIMITS = (
    "requests_per_second",
    "burst",
    "rows_per_month",
    "concurrent_scenario_runs",
    *PLAN_QUOTAS,
)


class Plan(models.Model):  # type: ignore[django-manager-missing]  # django-stubs misses the reverse FK
    """Commercial limits of a tenant, and the datasets it includes."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    requests_per_second = models.PositiveIntegerField(default=10, validators=AT_LEAST_ONE)
    burst = models.PositiveIntegerField(default=20, validators=AT_LEAST_ONE)
    rows_per_month = models.PositiveBigIntegerField(
        default=10_000_000,
        validators=AT_LEAST_ONE,
        help_text="Quota: curve rows served per calendar month (UTC), all credentials together.",
    )
    concurrent_scenario_runs = models.PositiveIntegerField(default=4, validators=AT_LEAST_ONE)
    api_requests_per_month = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        validators=AT_LEAST_ONE,
        help_text="Quota: API requests per calendar month (UTC). Empty: unlimited.",
    )
    scenario_runs_per_month = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        validators=AT_LEAST_ONE,
        help_text="Quota: scenario runs submitted per calendar month (UTC). Empty: unlimited.",
    )
    export_rows_per_month = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        validators=AT_LEAST_ONE,
        help_text="Quota: rows in curve exports per calendar month (UTC). Empty: unlimited.",
    )
    datasets = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    # Bumped by plan_route_limits_changed whenever the plan's PlanRouteLimits change: 0 means none, so the
    # throttle reads them only for plans that have some, once per process and version (no query per request).
    route_limits_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(**{f"{limit}__gte": 1}), name=f"plan_{limit}_at_least_1"
            )
            for limit in PLAN_LIMITS
        ]

    def __str__(self) -> str:
        return self.name


class PlanRouteLimit(models.Model):
    """A plan's own token bucket for some routes: requests matching ``route`` take from this bucket instead
    of the plan's. ``route`` is a URL name (``curves-export``) or a path pattern (``/api/v2/curves/*``).
    Written through ``tenants.services.plan_route_limit_set`` or the plan's admin page, which bump
    ``Plan.route_limits_version`` (a row saved otherwise is not seen until the next bump)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="route_limits")
    route = models.CharField(
        max_length=200,
        help_text="A URL name (e.g. curves-export) or a path pattern with * (e.g. /api/v2/curves/*).",
    )
    requests_per_second = models.PositiveIntegerField(validators=AT_LEAST_ONE)
    burst = models.PositiveIntegerField(validators=AT_LEAST_ONE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "route"], name="uniq_plan_route_limit"),
            models.CheckConstraint(
                condition=models.Q(requests_per_second__gte=1, burst__gte=1),
                name="plan_route_limit_at_least_1",
            ),
        ]
        ordering = ["route"]

    def __str__(self) -> str:
        return f"{self.plan} · {self.route}"


class Tenant(TenantMixin):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    name = models.CharField(max_length=100, unique=True)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    is_operator = models.BooleanField(
        default=False,
        help_text="The platform's market-data team: its traders and admins may load vendor datasets.",
    )
    created = models.DateTimeField(auto_now_add=True)
    suspended_at = models.DateTimeField(null=True, blank=True)

    # Provisioning is the tenant_create service's job, never a side effect of save().
    auto_create_schema = False
    auto_drop_schema = False

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def lakehouse_namespace(self) -> str:
        return f"t_{self.schema_name}"


class Domain(DomainMixin):
    pass


class Entitlement(models.Model):
    """A dataset (e.g. ``vendor:EUGP``) granted to a tenant on top of its plan."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="entitlements")
    dataset = models.CharField(max_length=64)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "dataset"], name="uniq_entitlement")]
        ordering = ["dataset"]

    def __str__(self) -> str:
        return f"{self.tenant} × {self.dataset}"


class SpareSchema(models.Model):
    """A schema cloned from the template ahead of need (docs/decisions/0049): provisioning renames one.

    Not a tenant: no row in ``Tenant``, never migrated by ``migrate_schemas``; ``platform_migrate`` drops the
    spares whose migrations differ from the template's and clones new ones.
    """

    schema_name = models.CharField(max_length=63, unique=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return self.schema_name
