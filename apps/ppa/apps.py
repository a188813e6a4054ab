from django.apps import AppConfig


class PpaConfig(AppConfig):
    name = "apps.ppa"
    label = "ppa"
    verbose_name = "PPA contracts and valuations"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from apps.ppa.models import PpaContract

        # Valuations are immutable records written once by ppa_valuate; contracts are what people change.
        auditlog.register(PpaContract)
