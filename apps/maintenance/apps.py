from django.apps import AppConfig


class MaintenanceConfig(AppConfig):
    name = "apps.maintenance"
    label = "maintenance"
    verbose_name = "Lakehouse maintenance"
    default_auto_field = "django.db.models.BigAutoField"
