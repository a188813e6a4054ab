from django.apps import AppConfig


class IngestionConfig(AppConfig):
    name = "apps.ingestion"
    label = "ingestion"
    verbose_name = "Ingestion"

    def ready(self) -> None:
        # Imported here: models and selectors load only once the app registry is ready.
        from django.utils import timezone

        from apps.ingestion.selectors import dataset_lateness_seconds
        from aurum.observability.metrics import gauge_register

        gauge_register(
            "aurum_dataset_late_seconds",
            "Seconds since the publication deadline of a dataset's first missing business day (0: on time)",
            lambda: dataset_lateness_seconds(now=timezone.now()),
            labels=("dataset",),
        )
