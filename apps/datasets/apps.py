from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "apps.datasets"
    label = "datasets"
    verbose_name = "Dataset contracts, freshness and backfills"

    def ready(self) -> None:
        # Imported here: models and selectors load only once the app registry is ready.
        from django.utils import timezone

        from apps.datasets.selectors import dataset_lateness_seconds
        from aurum.observability.metrics import gauge_register

        gauge_register(
            "aurum_dataset_late_seconds",
            "Seconds since a dataset's latest publication passed its contract's SLA without its vintage "
            "(0: on time or recovered)",
            lambda: dataset_lateness_seconds(now=timezone.now()),
            labels=("dataset",),
        )
