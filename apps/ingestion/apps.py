from django.apps import AppConfig


class IngestionConfig(AppConfig):
    name = "apps.ingestion"
    label = "ingestion"
    verbose_name = "Ingestion"

    def ready(self) -> None:
        from apps.ingestion.contracts import legacy_deadlines_warn

        legacy_deadlines_warn()
