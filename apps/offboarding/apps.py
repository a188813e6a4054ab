from django.apps import AppConfig


class OffboardingConfig(AppConfig):
    name = "apps.offboarding"
    label = "offboarding"
    verbose_name = "Offboarding and erasure"
    default_auto_field = "django.db.models.BigAutoField"
