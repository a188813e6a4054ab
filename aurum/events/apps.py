from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "aurum.events"
    label = "events"
    verbose_name = "Domain events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here: the outbox's model loads only once the app registry is ready.
        from aurum.events.outbox import outbox_backlog
        from aurum.observability.metrics import gauge_register

        gauge_register(
            "aurum_outbox_backlog",
            "Domain events recorded and not yet relayed (the outbox relay runs on the maintenance queue)",
            outbox_backlog,
        )
