from django.apps import AppConfig


class CurvesConfig(AppConfig):
    name = "apps.curves"
    label = "curves"
    verbose_name = "Curves"
