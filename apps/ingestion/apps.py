from django.apps import AppConfig


class IngestionConfig(AppConfig):
    name = "apps.ingestion"
    label = "ingestion"
    verbose_name = "Ingestion"

    def ready(self) -> None:
        # Imported here: models and selectors load only once the app registry is ready.
        from aurum.observability.metrics import gauge_register

        gauge_register(
            "aurum_dataset_late_seconds",
            "Seconds since the publication deadline of a dataset's first missing business day (0: on time)",
            _dataset_lateness,
            labels=("dataset",),
        )


def _dataset_lateness() -> dict[tuple[str, ...], float]:
    """Read at scrape time. The selectors are imported on the first scrape, not in ``ready``: they bring the
    lakehouse stack, which a ``manage.py`` command that never reads it should not pay for (issue 14)."""
    from django.utils import timezone

    from apps.ingestion.selectors import dataset_lateness_seconds

    return dataset_lateness_seconds(now=timezone.now())
