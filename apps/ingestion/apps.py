from django.apps import AppConfig
from django.conf import settings


class IngestionConfig(AppConfig):
    name = "apps.ingestion"
    label = "ingestion"
    verbose_name = "Ingestion"

    def ready(self) -> None:
        # The contracts bring Arrow: imported only when a deprecated deadline setting is there to warn about,
        # so a manage.py command that never reads the lakehouse does not pay for it (issue 14, decision 0046).
        if settings.AURUM_PUBLICATION_DEADLINES or settings.AURUM_PUBLICATION_DEADLINE_UTC:
            from apps.ingestion.contracts import legacy_deadlines_warn

            legacy_deadlines_warn()
