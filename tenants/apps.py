from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        # The tenant-aware Celery app becomes the current app of every Django process, so tasks sent from web
        # requests carry their tenant's schema (tenant-schemas-celery).
        from aurum.celery import app  # noqa: F401
        from tenants.models import Domain, Entitlement, Plan, Tenant

        for model in (Tenant, Domain, Plan, Entitlement):
            auditlog.register(model)
