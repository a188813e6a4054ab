from django.urls import path

from apps.webhooks.api import v2

urlpatterns = [
    path("webhooks", v2.WebhookListV2Api.as_view(), name="webhooks"),
    path("webhooks/<str:endpoint_id>", v2.WebhookDetailV2Api.as_view(), name="webhook"),
    path(
        "webhooks/<str:endpoint_id>/rotate-secret",
        v2.WebhookRotateSecretV2Api.as_view(),
        name="webhook-rotate",
    ),
    path("webhooks/<str:endpoint_id>/ping", v2.WebhookPingV2Api.as_view(), name="webhook-ping"),
    path("webhooks/<str:endpoint_id>/enable", v2.WebhookEnableV2Api.as_view(), name="webhook-enable"),
    path(
        "webhooks/<str:endpoint_id>/deliveries",
        v2.WebhookDeliveryListV2Api.as_view(),
        name="webhook-deliveries",
    ),
    path(
        "webhooks/<str:endpoint_id>/deliveries/<str:delivery_id>/redeliver",
        v2.WebhookRedeliverV2Api.as_view(),
        name="webhook-redeliver",
    ),
    path("webhooks/<str:endpoint_id>/events", v2.WebhookEventListV2Api.as_view(), name="webhook-events"),
]
