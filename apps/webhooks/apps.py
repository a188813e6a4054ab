from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "apps.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here: models and selectors load only once the app registry is ready.
        from apps.webhooks.selectors import webhook_backlog_by_tenant
        from aurum.observability.metrics import gauge_register

        gauge_register(
            "aurum_webhook_backlog",
            "Webhook messages waiting to be delivered (pending, or being delivered) per tenant",
            webhook_backlog_by_tenant,
            labels=("tenant",),
        )
