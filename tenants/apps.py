from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from tenants.models import Domain, Entitlement, Plan, Tenant

        for model in (Tenant, Domain, Plan, Entitlement):
            auditlog.register(model)
