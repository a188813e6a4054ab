"""Public-schema tenancy: who the tenants are, how they are reached, and what their plan allows."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin


class Plan(models.Model):  # type: ignore[django-manager-missing]  # django-stubs misses the reverse FK
    """Commercial limits of a tenant, and the datasets it includes."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    requests_per_second = models.PositiveIntegerField(default=10)
    burst = models.PositiveIntegerField(default=20)
    rows_per_month = models.PositiveBigIntegerField(default=10_000_000)
    concurrent_scenario_runs = models.PositiveIntegerField(default=4)
    datasets = ArrayField(models.CharField(max_length=64), default=list, blank=True)

    def __str__(self) -> str:
        return self.name


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
